"""Scan scoring on Spark: one ``applyInPandas`` task per shard runs
:func:`~stronglens_calibration.scan.scoring.shard_logits` on an executor (CPU), with the
model's weights shipped once as a broadcast and rebuilt once per Python worker; only the
logits and the reasons come back to the driver, which adds the calibrated probabilities
with the same function as the pandas engine."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Models rebuilt on this Python worker, by fingerprint (weights reach it once).
_MODELS: dict[str, Any] = {}

#: Columns a shard's scoring task needs.
TASK_COLUMNS: tuple[str, ...] = (
    "ra", "dec", "cutout_file", "cutout_row", "cutout_origin", "cutout_error", "brickname",
)  # fmt: skip

RESULT_SCHEMA = "_shard string, _row long, logit double, scan_flags string"


def _model_on_worker(fingerprint: str, artifact_bytes: Any) -> tuple[Any, Any]:
    if fingerprint not in _MODELS:
        import torch

        from stronglens_calibration.models.artifact import from_artifact

        artifact = torch.load(
            io.BytesIO(artifact_bytes.value), map_location="cpu", weights_only=True
        )
        _MODELS[fingerprint] = from_artifact(artifact)
    return _MODELS[fingerprint]


def score_shards_spark(
    shards: list[tuple[str, pd.DataFrame]],
    artifact: Mapping[str, Any],
    calibration: Mapping[str, Any],
    settings: Any,
    raw_cutouts: Mapping[str, Callable[[], bytes]],
    bricks: Callable[[str, str], Any] | None,
    checks: Any,
    spark: Any,
    shards_per_job: int | None = None,
    retain_freed_memory_mib: int = 0,
    limits: Any = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Score ``shards`` (``(name, plan rows)``) in Spark jobs of a few shards each, so
    the driver holds one job's logits at a time; yields ``(name, scored rows)`` in order.

    Each task computes its statistics in one thread (the executor's cores are its
    tasks'); each Python worker keeps freed blocks up to ``retain_freed_memory_mib``.
    """
    import dataclasses

    import torch

    from stronglens_calibration.allocator import retain_freed_memory
    from stronglens_calibration.scan.scoring import (
        model_fingerprint,
        shard_logits,
        with_probabilities,
    )
    from stronglens_calibration.stamps.shard_reader import CutoutSources

    fingerprint = model_fingerprint(artifact, calibration)
    buf = io.BytesIO()
    torch.save(dict(artifact), buf)
    weights = spark.sparkContext.broadcast(buf.getvalue())
    raw = dict(raw_cutouts)
    settings = dataclasses.replace(settings, threads=1)
    per_job = shards_per_job or max(spark.sparkContext.defaultParallelism, 1) * 2

    def task(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("_row").reset_index(drop=True)
        retain_freed_memory(retain_freed_memory_mib)
        model, pre = _model_on_worker(fingerprint, weights)
        sources = CutoutSources(raw, "npz", checks, limits)
        logits, flags = shard_logits(
            pdf, sources, bricks, model, pre, settings, torch.device("cpu")
        )
        return pd.DataFrame(
            {"_shard": pdf["_shard"], "_row": pdf["_row"], "logit": logits, "scan_flags": flags}
        )

    for start in range(0, len(shards), per_job):
        job = shards[start : start + per_job]
        rows = pd.concat(
            [
                plan[list(TASK_COLUMNS)].assign(
                    _shard=name, _row=np.arange(len(plan), dtype=np.int64)
                )
                for name, plan in job
            ],
            ignore_index=True,
        )
        rows["brickname"] = rows["brickname"].fillna("").astype(str)
        result = (
            spark.createDataFrame(rows)
            .repartition(len(job), "_shard")
            .groupBy("_shard")
            .applyInPandas(task, RESULT_SCHEMA)
            .toPandas()
        )
        for name, plan in job:
            part = result[result["_shard"] == name].sort_values("_row")
            yield (
                name,
                with_probabilities(
                    plan,
                    part["logit"].to_numpy(np.float64),
                    part["scan_flags"].to_numpy(str),
                    calibration,
                    settings.survey_prevalence,
                ),
            )
