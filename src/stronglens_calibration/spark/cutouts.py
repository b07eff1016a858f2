"""Cutout reading on Spark: one ``applyInPandas`` task per shard reads its cutout files
and cuts its brick stamps (:func:`~stronglens_calibration.stamps.shard_reader.read_shard`)
and writes the shard itself to a staging folder; only the per-slot log comes back to the
driver, and the stamp store then moves the staged shards into place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.schema import CUTOUT_LOG_COLUMNS, names, spark_schema

#: Columns of the log rows the executors return: the slot, then the cutout log.
LOG_SCHEMA = spark_schema(CUTOUT_LOG_COLUMNS, prefix="shard long, offset long, ")


def staged_shard_path(staging: str, shard: int) -> str:
    """Where the executor writes one shard before it is moved into the store."""
    from stronglens_calibration.stamps.store import shard_name

    return f"{staging.rstrip('/')}/{shard_name(int(shard))}.npy"


def read_cutouts_spark(
    slots: pd.DataFrame,
    raw_cutouts: dict[str, Callable[[], bytes]],
    coadd_bricks: Callable[[str, str], Any] | None,
    size: int,
    npz_column: str,
    staging: str,
    spark: Any,
    checks: Any = None,
    limits: Any = None,
) -> pd.DataFrame:
    """Read every planned slot on the executors; the log of every slot, by shard and offset.

    ``staging`` (a local path or an ``s3://`` / ``s3a://`` URI on the stamp store's
    filesystem) receives ``part-NNNNN.npy`` files written by the executors with
    ``allow_pickle=False``; executors reach S3 with their own credentials (instance role
    or ``AWS_*`` variables).
    """
    import fsspec

    from stronglens_calibration.stamps.shard_reader import CutoutSources, read_shard
    from stronglens_calibration.storage.uri import normalise_uri

    staging = normalise_uri(staging)
    columns = ["shard", "offset", "object_id", "cutout_file", "cutout_row", "cutout_origin"]
    columns += [c for c in ("brickname", "ra", "dec") if c in slots]
    table = slots[columns].copy()
    if "brickname" in table:
        table["brickname"] = table["brickname"].fillna("").astype(str)
    raw = dict(raw_cutouts)

    def one_shard(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("offset").reset_index(drop=True)
        sources = CutoutSources(raw, npz_column, checks, limits)
        stamps, infos = read_shard(pdf, sources, coadd_bricks, size)
        with fsspec.open(staged_shard_path(staging, int(pdf["shard"].iloc[0])), "wb") as f:
            np.save(f, stamps, allow_pickle=False)
        log = pd.DataFrame(infos, columns=names(CUTOUT_LOG_COLUMNS)[1:])
        log.insert(0, "object_id", pdf["object_id"].to_numpy())
        log.insert(0, "offset", pdf["offset"].to_numpy(np.int64))
        log.insert(0, "shard", pdf["shard"].to_numpy(np.int64))
        return log

    fs, root = fsspec.core.url_to_fs(staging)
    fs.makedirs(root, exist_ok=True)
    n_shards = int(table["shard"].nunique())
    return (
        spark.createDataFrame(table)
        .repartition(max(n_shards, 1), "shard")
        .groupBy("shard")
        .applyInPandas(one_shard, LOG_SCHEMA)
        .toPandas()
        .sort_values(["shard", "offset"])
        .reset_index(drop=True)
    )
