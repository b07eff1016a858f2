"""Scoring one split of the object table with a trained lens finder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Columns of the score tables carried over from ``objects_split``.
SCORE_ID_COLUMNS: tuple[str, ...] = (
    "object_id", "ra", "dec", "split", "label", "tier", "confuser_category", "psfsize_r",
    "region_holdout",
)  # fmt: skip


def score_split(
    lens_finder: Mapping[str, Any],
    objects: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    split: str,
    batch_size: int,
    device: Any,
) -> pd.DataFrame:
    """Logits of the usable objects of one split, in table order.

    Parameters
    ----------
    lens_finder : Mapping
        The trained artifact (weights, network and preprocessing).
    objects : pandas.DataFrame
        ``objects_split``.
    stamps : Mapping
        The stamp store's shard loaders.
    split : str
        ``train``, ``val`` or ``test``; no other row is read.
    batch_size : int
        Stamps scored at a time.
    device : torch.device
        Where to score.

    Returns
    -------
    pandas.DataFrame
        :data:`SCORE_ID_COLUMNS`, ``logit`` (NaN when the stamp is not finite after
        preprocessing) and ``scored``.
    """
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.data import StampDataset
    from stronglens_calibration.models.inference import score_dataset

    missing = [c for c in SCORE_ID_COLUMNS if c not in objects.columns]
    if missing:
        raise ValueError(
            f"the object table lacks column(s) {missing}: it was written by an older version "
            "of the split; rerun `kedro run --pipelines split` and the pipelines after it"
        )
    model, pre = from_artifact(lens_finder)
    ds = StampDataset(objects, stamps, (split,), pre)
    if len(ds) == 0:
        raise ValueError(f"the {split} split has no object with a usable cutout to evaluate")
    logits, _ = score_dataset(model, ds, batch_size, device, f"scoring {split}")
    table = ds.table[list(SCORE_ID_COLUMNS)].copy()
    table["confuser_category"] = (
        table["confuser_category"].fillna("").astype(str).replace("", "none")
    )
    table["tier"] = table["tier"].fillna("").astype(str)
    table["logit"] = logits
    table["scored"] = np.isfinite(logits)
    if not table["scored"].all():
        logger.warning(
            "%d %s objects have a non-finite stamp after preprocessing and were not scored",
            int((~table["scored"]).sum()),
            split,
        )
    return table
