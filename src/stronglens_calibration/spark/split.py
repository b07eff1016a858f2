"""HEALPix pixels and split labels on Spark: ``mapInPandas`` over batches of positions
with the pandas engine's functions (the sky partition is a pure function of position)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def assign_splits_spark(
    positions: pd.DataFrame, nside: int, seed: int, fractions: dict[str, float], spark: Any
) -> pd.DataFrame:
    """``healpix`` (int64, NESTED) and ``split`` of each row of ``positions`` (``ra``,
    ``dec`` in deg), in its order."""
    from stronglens_calibration.sky.healpix import assign_splits, healpix_nested

    table = pd.DataFrame(
        {
            "_row": np.arange(len(positions), dtype=np.int64),
            "ra": positions["ra"].to_numpy(np.float64),
            "dec": positions["dec"].to_numpy(np.float64),
        }
    )

    def batches(frames):
        for pdf in frames:
            pix = healpix_nested(pdf["ra"].to_numpy(), pdf["dec"].to_numpy(), nside)
            yield pd.DataFrame(
                {
                    "_row": pdf["_row"].to_numpy(),
                    "healpix": np.asarray(pix, dtype=np.int64),
                    "split": assign_splits(np.asarray(pix), nside, seed, fractions),
                }
            )

    out = (
        spark.createDataFrame(table)
        .mapInPandas(batches, "_row long, healpix long, split string")
        .toPandas()
        .sort_values("_row")
        .reset_index(drop=True)
    )
    return out[["healpix", "split"]]
