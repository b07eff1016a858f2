"""Nodes of the ``quality`` pipeline."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.engines import get_engine
from stronglens_calibration.pipelines.quality.config import QualityConfig
from stronglens_calibration.schema import quarantine_table, reason_kind
from stronglens_calibration.sort_dispatch import warn_if_sorts_are_slow
from stronglens_calibration.stamps.generations import shards_for_table
from stronglens_calibration.stamps.quality import quality_flags
from stronglens_calibration.stamps.store import shard_name
from stronglens_calibration.tracking.hooks import table_fingerprint

logger = logging.getLogger(__name__)


def measure_stamps(
    objects: pd.DataFrame, stamps: dict[str, Callable[[], np.ndarray]], params: dict[str, Any]
) -> pd.DataFrame:
    """Statistics of every stored stamp, one streaming pass, shards spread over workers.

    Returns
    -------
    pandas.DataFrame
        ``object_id`` plus :data:`~stronglens_calibration.schema.STATISTICS_COLUMNS`.
    """
    cfg = QualityConfig.from_params(params)
    stamps = shards_for_table(objects, stamps, "objects_ingested")
    stored = objects[objects["shard"] >= 0]
    missing = sorted({shard_name(int(s)) for s in stored["shard"].unique()} - set(stamps))
    if missing:
        raise ValueError(f"stamp store lacks shard(s) {missing} that the object table points at")
    warn_if_sorts_are_slow(logger, "quality")
    start = time.perf_counter()
    stats = get_engine(cfg.engine).stamp_statistics(
        stored,
        stamps,
        cfg.stamp_size,
        cfg.core_radius_px,
        cfg.annulus_px,
        cfg.batch_size,
        cfg.n_workers,
        (cfg.no_coverage.core_radius_px, cfg.no_coverage.min_run_px),
    )
    elapsed = time.perf_counter() - start
    logger.info(
        "quality (%s engine): %d stamps in %.1f s (%.0f stamps/s)",
        cfg.engine,
        len(stored),
        elapsed,
        len(stored) / max(elapsed, 1e-9),
    )
    return stats


def flag_objects(
    objects: pd.DataFrame,
    statistics: pd.DataFrame,
    ingest_quarantine: pd.DataFrame,
    params: dict[str, Any],
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
        ``rows_in``, ``ok``, ``quarantined``, counts per reason, per class and per tier.
    """
    qc = objects.merge(statistics, on="object_id", how="left", validate="one_to_one")
    cfg = QualityConfig.from_params(params)
    qc["quality_flags"] = quality_flags(qc, cfg.no_coverage.max_fraction).to_numpy()
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
    quarantine = quarantine_table(rejected, ingest_quarantine)

    reasons: Counter[str] = Counter()
    for text in quarantine["reason"]:
        for r in str(text).split("|"):
            reasons[reason_kind(r)] += 1
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
        "partial_no_coverage_kept": int(
            (qc["cutout_ok"] & (qc[[f"zero_frac_{b}" for b in BANDS]].max(axis=1) > 0)).sum()
        )
        if f"zero_frac_{BANDS[0]}" in qc
        else 0,
        "per_tier_ok": {
            str(t): int(n)
            for t, n in qc.loc[qc["cutout_ok"] & (qc["label"] == 1), "tier"].value_counts().items()
        },
    }
    # the table this report describes (the run report flags a pair a stopped run split)
    report["describes"] = {"objects_qc": table_fingerprint(qc)}
    logger.info("quality: %d rows in, %d ok, %d quarantined", rows_in, ok, len(quarantine))
    return qc, quarantine, report
