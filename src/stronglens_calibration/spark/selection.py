"""The sweep scan on Spark: one ``mapInPandas`` task per sweep file runs
:func:`~stronglens_calibration.catalogues.selection.scan_sweep_file` on the executor
(the file is read there, through fsspec); the driver folds the files' bounded results
in the pandas engine's order with the same merger, so the selection is the same."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd

from stronglens_calibration.catalogues.selection import (
    SelectionConfig,
    SelectionPlan,
    SelectionResult,
    SweepScan,
    merge_scans,
    plan_selection,
    scan_sweep_file,
)
from stronglens_calibration.storage.fits_table import FITSTable

logger = logging.getLogger(__name__)

#: Schema of one scanned file as it travels from an executor to the driver.
SCAN_SCHEMA = (
    "name string, normal binary, hard binary, matches binary, duplicates binary, "
    "counts string, cut_counts string"
)


def _to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False)
    return buf.getvalue()


def _from_parquet(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def encode_scan(scan: SweepScan) -> dict[str, Any]:
    """A scan as one row of :data:`SCAN_SCHEMA` (tables as parquet, counts as JSON)."""
    return {
        "name": scan.name,
        "normal": _to_parquet(scan.normal),
        "hard": _to_parquet(scan.hard),
        "matches": _to_parquet(scan.matches),
        "duplicates": _to_parquet(pd.DataFrame(scan.duplicates)),
        "counts": json.dumps(dict(scan.counts)),
        "cut_counts": json.dumps(dict(scan.cut_counts)),
    }


def decode_scan(row: Mapping[str, Any]) -> SweepScan:
    """Inverse of :func:`encode_scan`."""
    return SweepScan(
        name=str(row["name"]),
        normal=_from_parquet(row["normal"]),
        hard=_from_parquet(row["hard"]),
        duplicates=_from_parquet(row["duplicates"]).to_dict("records"),
        matches=_from_parquet(row["matches"]),
        counts=Counter(json.loads(row["counts"])),
        cut_counts=Counter(json.loads(row["cut_counts"])),
    )


def select_objects_spark(
    positives: pd.DataFrame,
    sweeps: Mapping[str, Callable[[], FITSTable]],
    lenscat: pd.DataFrame,
    cfg: SelectionConfig,
    spark: Any,
    file_photsys: Mapping[str, str] | None = None,
) -> SelectionResult:
    """:func:`~stronglens_calibration.catalogues.selection.select_objects` with the files
    scanned by Spark tasks, one per file (see :func:`fold` for ``limit``)."""
    plan = plan_selection(positives, list(sweeps), lenscat, cfg, file_photsys)
    loaders = {name: sweeps[name] for name in plan.order}
    ctx = plan.ctx

    def scan_files(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in frames:
            for name in pdf["name"]:
                yield pd.DataFrame([encode_scan(scan_sweep_file(name, loaders[name](), ctx))])

    def run(names: list[str]) -> dict[str, SweepScan]:
        frame = spark.createDataFrame(pd.DataFrame({"name": names}))
        tasks = min(len(names), max(spark.sparkContext.defaultParallelism, 1) * 4)
        rows = frame.repartition(tasks).mapInPandas(scan_files, SCAN_SCHEMA).toPandas()
        return {str(r["name"]): decode_scan(r) for r in rows.to_dict("records")}

    return fold(plan, cfg, run)


def fold(
    plan: SelectionPlan,
    cfg: SelectionConfig,
    run: Callable[[list[str]], dict[str, SweepScan]],
) -> SelectionResult:
    """Fold the files' scans in plan order, asking ``run`` (a Spark job) for scans as
    the fold needs them: without ``limit`` all files at once; with it, first the files
    holding the chosen positives, then the others in doubling batches only while the
    fold has not stopped (it stops where the single pass stops), so a smoke run reads
    at most about twice the files the pandas engine reads."""
    scans: dict[str, SweepScan] = {}
    batch = [max(plan.n_first, 4)]

    def scan_of(name: str) -> SweepScan:
        if name not in scans:
            i = plan.order.index(name)
            if cfg.limit is None:
                wanted = plan.order
            elif i < plan.n_first:
                wanted = plan.order[: plan.n_first]
            else:
                wanted = plan.order[i : i + batch[0]]
                batch[0] *= 2
            wanted = [n for n in wanted if n not in scans]
            scans.update(run(wanted))
            missing = [n for n in wanted if n not in scans]
            if missing:
                raise RuntimeError(f"Spark returned no scan for sweep file(s) {missing[:5]}")
        return scans[name]

    result = merge_scans(plan, scan_of)
    logger.info("Spark scanned %d of %d sweep files", len(scans), len(plan.order))
    return result
