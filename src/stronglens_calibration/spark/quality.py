"""Stamp statistics on Spark: one ``applyInPandas`` task per shard runs
:func:`~stronglens_calibration.stamps.quality.shard_statistics`, reading the shard on the
executor; only the statistics (a few dozen numbers per object) reach the driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.schema import STATISTICS_COLUMNS, numpy_dtypes, spark_schema


def statistics_schema() -> str:
    """DDL schema of the rows the executors return."""
    return spark_schema(STATISTICS_COLUMNS, prefix="_row long, object_id string, ")


def shard_statistics_spark(
    stored: pd.DataFrame,
    loaders: dict[str, Callable[[], np.ndarray]],
    stamp_size: int,
    core_radius_px: float,
    annulus_px: tuple[float, float],
    batch_size: int,
    spark: Any,
    coverage: tuple[float, int] = (5.0, 3),
) -> pd.DataFrame:
    """Statistics of the stamps of ``stored`` (``object_id``, ``shard``, ``offset``).

    Returns
    -------
    pandas.DataFrame
        The same table, row order and dtypes as the pandas engine (rows in the order of
        ``stored`` grouped by shard).
    """
    from stronglens_calibration.stamps.quality import shard_statistics
    from stronglens_calibration.stamps.store import shard_name

    order = stored.assign(_shard=stored["shard"].map(lambda s: shard_name(int(s))))
    order = order.sort_values("shard", kind="stable").reset_index(drop=True)
    order["_row"] = np.arange(len(order), dtype=np.int64)
    rows = spark.createDataFrame(order[["_row", "object_id", "_shard", "offset"]])
    tasks = {name: loaders[name] for name in order["_shard"].unique()}

    def one_shard(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("_row")
        name = str(pdf["_shard"].iloc[0])
        stats = shard_statistics(
            name,
            tasks[name],
            pdf["offset"].to_numpy(np.int64),
            pdf["object_id"].tolist(),
            stamp_size,
            core_radius_px,
            annulus_px,
            batch_size,
            coverage,
        )
        stats.insert(0, "_row", pdf["_row"].to_numpy())
        return stats

    n_shards = max(len(tasks), 1)
    result = (
        rows.repartition(n_shards, "_shard")
        .groupBy("_shard")
        .applyInPandas(one_shard, statistics_schema())
        .toPandas()
    )
    result = result.sort_values("_row").drop(columns="_row").reset_index(drop=True)
    return result.astype(numpy_dtypes(STATISTICS_COLUMNS))
