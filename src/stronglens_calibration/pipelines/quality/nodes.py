"""Nodes of the ``quality`` pipeline."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.stamps.quality import quality_flags, shard_statistics
from stronglens_calibration.stamps.store import shard_name

logger = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["object_id", "ra", "dec", "label", "tier", "stage", "reason"]


def measure_stamps(
    objects: pd.DataFrame, stamps: dict[str, Callable[[], np.ndarray]], params: dict[str, Any]
) -> pd.DataFrame:
    """Statistics of every stored stamp, one streaming pass, shards spread over workers.

    Returns
    -------
    pandas.DataFrame
        ``object_id`` plus ``nan_frac``, ``nan_in_core``, ``inf_count`` and per band
        ``nan_count``, ``empty``, ``constant``, ``core_flux`` (nanomaggies),
        ``annulus_median`` and ``annulus_mad`` (nanomaggies per pixel).
    """
    p = ParamReader(params, "quality")
    size = p.integer("stamp_size", low=1)
    core = p.positive("core_radius_px")
    annulus = p.interval("annulus_px", low=0)
    batch = p.integer("batch_size", low=1)
    workers = p.integer("n_workers", low=1)
    engine = p.choice("engine", ["pandas", "spark"])
    stored = objects[objects["shard"] >= 0]
    missing = sorted({shard_name(int(s)) for s in stored["shard"].unique()} - set(stamps))
    if missing:
        raise ValueError(f"stamp store lacks shard(s) {missing} that the object table points at")
    start = time.perf_counter()
    if engine == "spark":
        from stronglens_calibration.spark.quality import shard_statistics_spark
        from stronglens_calibration.spark.session import active_session

        stats = shard_statistics_spark(stored, stamps, size, core, annulus, batch, active_session())
    else:
        stats = _statistics_in_processes(stored, stamps, size, core, annulus, batch, workers)
    elapsed = time.perf_counter() - start
    logger.info(
        "quality (%s engine): %d stamps in %.1f s (%.0f stamps/s)",
        engine,
        len(stored),
        elapsed,
        len(stored) / max(elapsed, 1e-9),
    )
    return stats


def _statistics_in_processes(
    stored: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    size: int,
    core: float,
    annulus: tuple[float, float],
    batch: int,
    workers: int,
) -> pd.DataFrame:
    """The pandas engine: one task per shard, spread over ``workers`` processes."""
    tasks = [
        (
            shard_name(int(shard)),
            stamps[shard_name(int(shard))],
            rows["offset"].to_numpy(np.int64),
            rows["object_id"].tolist(),
            size,
            core,
            annulus,
            batch,
        )
        for shard, rows in stored.groupby("shard", sort=True)
    ]
    progress = tqdm(total=len(stored), desc="quality", unit="stamp")
    results = []
    if workers == 1 or len(tasks) < 2:
        for task in tasks:
            results.append(shard_statistics(*task))
            progress.update(len(task[2]))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=ctx) as pool:
            futures = [pool.submit(shard_statistics, *task) for task in tasks]
            for fut, task in zip(futures, tasks, strict=True):
                results.append(fut.result())
                progress.update(len(task[2]))
    progress.close()
    if not results:
        return pd.DataFrame({"object_id": pd.Series(dtype=str)})
    return pd.concat(results, ignore_index=True)


def flag_objects(
    objects: pd.DataFrame,
    statistics: pd.DataFrame,
    ingest_quarantine: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``cutout_ok`` and ``quality_flags`` for every object; quarantine and report.

    Returns
    -------
    objects_qc : pandas.DataFrame
        ``objects_ingested`` plus the statistics, ``cutout_ok`` and ``quality_flags``.
    quarantine : pandas.DataFrame
        Every input row that is not usable: ingest's quarantine and the objects that
        fail quality, with ``stage`` and ``reason``.
    report : dict
        ``rows_in``, ``ok``, ``quarantined`` (``rows_in == ok + quarantined``), counts
        per reason, per class and per tier.
    """
    qc = objects.merge(statistics, on="object_id", how="left", validate="one_to_one")
    qc["quality_flags"] = quality_flags(qc).to_numpy()
    qc["cutout_ok"] = (qc["quality_flags"] == "").to_numpy()
    bad = qc[~qc["cutout_ok"]]
    rejected = pd.DataFrame(
        {
            "object_id": bad["object_id"],
            "ra": bad["ra"],
            "dec": bad["dec"],
            "label": bad["label"],
            "tier": bad["tier"],
            "stage": "quality",
            "reason": bad["quality_flags"],
        }
    )
    quarantine = pd.concat(
        [rejected, ingest_quarantine.assign(tier=ingest_quarantine.get("tier", ""))],
        ignore_index=True,
    ).reindex(columns=QUARANTINE_COLUMNS)
    quarantine["tier"] = quarantine["tier"].fillna("").astype(str)
    quarantine["label"] = quarantine["label"].astype(np.int8)

    reasons: Counter[str] = Counter()
    for text in quarantine["reason"]:
        for r in str(text).split("|"):
            reasons[r.split(",")[0]] += 1
    rows_in = len(objects) + len(ingest_quarantine)
    ok = int(qc["cutout_ok"].sum())
    report = {
        "rows_in": rows_in,
        "ok": ok,
        "quarantined": len(quarantine),
        "per_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "per_class": {
            str(label): {
                "rows_in": int(
                    (qc["label"] == label).sum() + (ingest_quarantine["label"] == label).sum()
                ),
                "ok": int(qc.loc[qc["label"] == label, "cutout_ok"].sum()),
                "quarantined": int((quarantine["label"] == label).sum()),
            }
            for label in (0, 1)
        },
        "per_tier_ok": {
            str(t): int(n)
            for t, n in qc.loc[qc["cutout_ok"] & (qc["label"] == 1), "tier"].value_counts().items()
        },
    }
    if report["rows_in"] != report["ok"] + report["quarantined"]:
        raise RuntimeError(f"quality counts do not add up: {report}")
    logger.info("quality: %d rows in, %d ok, %d quarantined", rows_in, ok, len(quarantine))
    return qc, quarantine, report
