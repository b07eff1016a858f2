"""Scoring one shard of a scan: stamps from the ingest readers (cutout files, coadd
bricks), the quality checks ingest-and-quality would apply, the trained network in
batches, and the calibration evaluate fitted. A pure function of the shard's rows, so
the pandas engine runs it in a loop and the Spark engine inside ``mapInPandas``."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS


@dataclass(frozen=True)
class ScoringSettings:
    """What scoring needs besides the model.

    Attributes
    ----------
    stamp_size : int
        Side of the stamps in pixels (the model's training stamps).
    core_radius_px, annulus_px :
        Apertures of the statistics (pixels), as quality measures them.
    coverage_core_radius_px, min_zero_run_px, max_no_coverage_fraction :
        The no-coverage rules of quality.
    batch_size : int
        Stamps through the network at a time.
    survey_prevalence : float
        Lenses per galaxy in the scanned region (``p_survey``).
    threads : int
        CPU threads sharing the quality statistics of a shard (1 on a Spark executor,
        whose cores are the tasks').
    """

    stamp_size: int
    core_radius_px: float
    annulus_px: tuple[float, float]
    coverage_core_radius_px: float
    min_zero_run_px: int
    max_no_coverage_fraction: float
    batch_size: int
    survey_prevalence: float
    threads: int = 1


def model_fingerprint(lens_finder: Mapping[str, Any], calibration: Mapping[str, Any]) -> str:
    """sha256 (16 hex digits) of the weights, network, preprocessing and calibration."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(lens_finder["state_dict"].items()):
        digest.update(name.encode())
        buf = io.BytesIO()
        torch.save(tensor, buf)
        digest.update(buf.getvalue())
    for key in ("network", "preprocessing", "config"):
        digest.update(repr(lens_finder.get(key)).encode())
    for key in ("temperature", "sample_prior"):
        digest.update(repr(calibration.get(key)).encode())
    return digest.hexdigest()[:16]


def shard_fingerprint(rows: pd.DataFrame) -> str:
    """sha256 (16 hex digits) of what a shard scores: ids, positions and cutouts."""
    cols = [c for c in ("object_id", "ra", "dec", "cutout_file", "cutout_row") if c in rows]
    hashed = pd.util.hash_pandas_object(rows[cols], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def shard_logits(
    rows: pd.DataFrame,
    sources: Any,
    bricks: Callable[[str, str], Any] | None,
    model: Any,
    preprocessing: Any,
    settings: ScoringSettings,
    device: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The network's logit for every object of a shard, or why it has none.

    Parameters
    ----------
    rows : pandas.DataFrame
        The shard: ``ra``, ``dec`` (deg) and the cutout plan (``cutout_file``,
        ``cutout_row``, ``cutout_origin``, ``cutout_error``, ``brickname``).
    sources : CutoutSources
        Where the files' bytes come from, and the header checks.
    bricks : callable or None
        Opener of coadd brick images.
    model, preprocessing :
        The trained network (eval mode) and its preprocessing.
    settings : ScoringSettings
        Apertures, quality rules, batch size.
    device : torch.device
        Where to score.

    Returns
    -------
    logits : numpy.ndarray
        float64 ``(n,)``, NaN where not scored.
    flags : numpy.ndarray
        ``(n,)`` strings: ``""``, or the ingest or quality reason for no score.
    """
    from stronglens_calibration.stamps.shard_reader import read_shard

    rows = rows.reset_index(drop=True)
    n = len(rows)
    error = rows["cutout_error"].fillna("").astype(str).to_numpy()
    no_file = rows["cutout_file"].fillna("").astype(str).to_numpy() == ""
    flags = np.where(no_file, np.where(error == "", "no cutout", error), "").astype(object)
    logits = np.full(n, np.nan)
    have = np.flatnonzero(flags == "")
    if have.size:
        stamps, infos = read_shard(rows.iloc[have], sources, bricks, settings.stamp_size)
        errors = np.array([i["cutout_error"] for i in infos], dtype=object)
        logits[have], flags[have] = logits_of_stamps(
            stamps, errors, model, preprocessing, settings, device
        )
    return logits, flags.astype(str)


def logits_of_stamps(
    stamps: np.ndarray,
    read_errors: np.ndarray,
    model: Any,
    preprocessing: Any,
    settings: ScoringSettings,
    device: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Quality rules, preprocessing and the network on stamps already read.

    The statistics and the preprocessing are computed in row chunks on
    ``settings.threads`` threads; then the usable stamps go through the network.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
    read_errors : numpy.ndarray
        ``(n,)`` reasons from reading (``""`` when read).

    Returns
    -------
    logits, flags : numpy.ndarray
        As :func:`shard_logits`.
    """
    from stronglens_calibration.models.inference import score_stamps
    from stronglens_calibration.stamps.quality import quality_flags
    from stronglens_calibration.stamps.row_chunks import concatenate_columns, map_row_chunks
    from stronglens_calibration.stamps.statistics import stamp_statistics

    def prepare(rows: slice) -> dict[str, np.ndarray]:
        chunk = stamps[rows]
        stats = stamp_statistics(
            chunk,
            settings.core_radius_px,
            settings.annulus_px,
            settings.coverage_core_radius_px,
            settings.min_zero_run_px,
        )
        median = np.stack([stats[f"annulus_median_{b}"] for b in BANDS], axis=1)
        mad = np.stack([stats[f"annulus_mad_{b}"] for b in BANDS], axis=1)
        with np.errstate(invalid="ignore"):  # unusable stamps are flagged, not scored
            stats["_input"] = preprocessing(chunk, median, mad)
        return stats

    prepared = concatenate_columns(map_row_chunks(prepare, len(stamps), settings.threads))
    inputs = prepared.pop("_input")
    stats = pd.DataFrame(prepared)
    stats["cutout_error"] = read_errors
    stats["shard"] = 0
    flags = np.array(quality_flags(stats, settings.max_no_coverage_fraction), dtype=object)
    logits = np.full(len(stamps), np.nan)
    ok = np.flatnonzero(flags == "")
    if ok.size:
        # nearly every shard is wholly usable: the network's inputs are then not copied
        usable = inputs if ok.size == len(stamps) else inputs[ok]
        scored, _ = score_stamps(
            model, ok.size, lambda sl: usable[sl], settings.batch_size, device, "scanning"
        )
        logits[ok] = scored
        flags[ok[~np.isfinite(scored)]] = "not finite after preprocessing"
    return logits, flags


def with_probabilities(
    rows: pd.DataFrame,
    logits: np.ndarray,
    flags: np.ndarray,
    calibration: Mapping[str, Any],
    survey_prevalence: float,
) -> pd.DataFrame:
    """The shard with ``logit``, ``p_calibrated``, ``p_survey`` (calibrated as evaluate
    calibrated them; NaN when not scored), ``scored`` and ``scan_flags``."""
    from stronglens_calibration.evaluation.metrics import (
        calibrated_probabilities,
        survey_probabilities,
    )

    prior = dict(calibration) | {"survey_prevalence": survey_prevalence}
    out = rows.reset_index(drop=True).copy()
    out["logit"] = logits
    out["p_calibrated"] = calibrated_probabilities(logits, prior)
    out["p_survey"] = survey_probabilities(logits, prior)
    out["scored"] = np.isfinite(logits)
    out["scan_flags"] = np.asarray(flags, dtype=object).astype(str)
    return out


def score_shard(
    rows: pd.DataFrame,
    sources: Any,
    bricks: Callable[[str, str], Any] | None,
    model: Any,
    preprocessing: Any,
    calibration: Mapping[str, Any],
    settings: ScoringSettings,
    device: Any,
) -> pd.DataFrame:
    """:func:`shard_logits` then :func:`with_probabilities`: the scored shard."""
    logits, flags = shard_logits(rows, sources, bricks, model, preprocessing, settings, device)
    return with_probabilities(rows, logits, flags, calibration, settings.survey_prevalence)
