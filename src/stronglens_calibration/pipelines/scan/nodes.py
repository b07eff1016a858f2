"""Nodes of the ``scan`` pipeline: wiring over :mod:`stronglens_calibration.scan`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration.catalogues.sweep_tree import checked_sweep_files
from stronglens_calibration.pipelines.ingest.config import IngestConfig
from stronglens_calibration.pipelines.scan.config import ScanConfig
from stronglens_calibration.scan.inspection import (
    expected_lenses,
    inspection_page,
    top_candidates,
)
from stronglens_calibration.scan.sample import (
    flag_known_lenses,
    positions_sample,
    shards_of,
    sweep_file_sample,
)
from stronglens_calibration.scan.scoring import model_fingerprint, shard_fingerprint
from stronglens_calibration.stamps.cutout_service import fill_from_service

logger = logging.getLogger(__name__)


def _partition_name(key: str) -> str:
    """A sample partition's name: the source key with its folders flattened."""
    return key.replace("/", "__")


def select_scan_sample(
    scan_sweeps: dict[str, Callable[[], Any]],
    lens_candidates: pd.DataFrame,
    ingest_params: dict[str, Any],
    params: dict[str, Any],
) -> Iterator[dict[str, pd.DataFrame]]:
    """The parent sample, one partition per sweep file (a generator: memory is bounded
    by one file), cut as ingest cuts the training negatives; known lenses flagged.

    With ``scan.positions_file`` the sample is that table of positions instead.

    Yields
    ------
    dict
        ``{partition: DataFrame}`` with :data:`~.scan.sample.SAMPLE_COLUMNS`.
    """
    cfg = ScanConfig.from_params(params)
    selection = IngestConfig.from_params(ingest_params).selection
    if cfg.positions_file is not None:
        import fsspec

        from stronglens_calibration.storage.uri import normalise_uri

        with fsspec.open(normalise_uri(cfg.positions_file), "r") as f:
            table = pd.read_csv(f)
        sample = positions_sample(table, cfg.positions_file)
        yield {"positions": flag_known_lenses(sample, lens_candidates, cfg.known_radius_arcsec)}
        return
    chosen, _, _ = checked_sweep_files(
        scan_sweeps, "the scan region (scan_sweeps; or set scan.positions_file)"
    )
    total = 0
    for f in tqdm(chosen, desc="scan sample", unit="file"):
        sample, counts = sweep_file_sample(
            f.key, scan_sweeps[f.key](), selection.cuts, selection.chunk_rows, f.photsys
        )
        total += len(sample)
        logger.info(
            "%s: %d of %d rows in the parent sample", f.key, len(sample), counts["rows_read"]
        )
        yield {
            _partition_name(f.key): flag_known_lenses(
                sample, lens_candidates, cfg.known_radius_arcsec
            )
        }
    if total == 0:
        raise ValueError("no sweep row of the scan region passes the cuts (ingest.cuts)")


def _model(lens_finder: dict, calibration: dict, cfg: ScanConfig) -> tuple[dict, dict]:
    """The artifact and calibration to score with: the catalog's, or an MLflow run's."""
    if cfg.model_run_id is None:
        return lens_finder, calibration
    import json

    import mlflow
    import torch

    model_path = mlflow.artifacts.download_artifacts(
        run_id=cfg.model_run_id, artifact_path="model/lens_finder.pt"
    )
    calibration_path = mlflow.artifacts.download_artifacts(
        run_id=cfg.model_run_id, artifact_path="reports/calibration.json"
    )
    with open(model_path, "rb") as f:
        artifact = torch.load(f, map_location="cpu", weights_only=True)
    with open(calibration_path) as f:
        return artifact, json.load(f)


def check_scan_model(lens_finder: dict, params: dict[str, Any]) -> dict[str, Any]:
    """Refuse a model that cannot score these stamps, before any stamp is read.

    Returns
    -------
    dict
        The model's network, preprocessing and stamp size requirements.
    """
    cfg = ScanConfig.from_params(params)
    if not isinstance(lens_finder, dict) or not {"state_dict", "preprocessing"} <= set(lens_finder):
        raise ValueError(
            "the scan model is not a lens_finder artifact (a dict with state_dict, config, "
            "preprocessing, as the train pipeline saves it)"
        )
    from stronglens_calibration.models.artifact import from_artifact

    _, pre = from_artifact(lens_finder)
    if pre.crop > cfg.scoring.stamp_size:
        raise ValueError(
            f"the model crops {pre.crop} px from each stamp but the scan's stamps are "
            f"{cfg.scoring.stamp_size} px (scan.quality.stamp_size)"
        )
    if tuple(pre.bands) != ("g", "r", "z"):
        raise ValueError(f"the model was trained on bands {pre.bands}; the scan reads g, r, z")
    return {"crop": pre.crop, "clip": pre.clip, "network": lens_finder.get("network", {})}


def score_scan(
    scan_sample: dict[str, Callable[[], pd.DataFrame]],
    scan_cutouts: dict[str, Callable[[], bytes]],
    coadd_bricks: Callable[[str, str], Any],
    scan_scores_done: dict[str, Callable[[], pd.DataFrame]],
    lens_finder: dict,
    calibration: dict,
    model_check: dict[str, Any],
    params: dict[str, Any],
) -> Iterator[dict[str, pd.DataFrame]]:
    """Score the parent sample shard by shard (a generator: one shard in memory).

    A shard already saved by an earlier run with the same model and the same objects
    is not scored again, so a killed scan resumes where it stopped and ends with the
    table an uninterrupted run gives.

    Yields
    ------
    dict
        ``{"<model fingerprint>/<sample partition>-<shard>": scored rows}``.
    """
    from stronglens_calibration.engines import get_engine
    from stronglens_calibration.sort_dispatch import warn_if_sorts_are_slow
    from stronglens_calibration.stamps.cutout_index import CutoutIndex

    cfg = ScanConfig.from_params(params)
    warn_if_sorts_are_slow(logger, "scan")
    artifact, calib = _model(lens_finder, calibration, cfg)
    fp = model_fingerprint(artifact, calib)
    index = CutoutIndex.from_partitions(scan_cutouts, "npz", cfg.limits)
    engine = get_engine(cfg.engine)
    todo: list[tuple[str, pd.DataFrame]] = []
    resumed = 0
    for key in sorted(scan_sample):
        sample = scan_sample[key]()
        for j, shard in enumerate(shards_of(sample, cfg.shard_size)):
            name = f"{fp}/{key}-{j:05d}"
            plan = _plan_shard(shard, index, cfg)
            if name in scan_scores_done and _same_shard(scan_scores_done[name], plan):
                resumed += 1
                continue
            todo.append((name, plan))
    logger.info("scan: %d shards to score, %d already scored (resumed)", len(todo), resumed)
    progress = tqdm(total=sum(len(p) for _, p in todo), desc="scanning", unit="object")
    for name, scored in engine.score_shards(
        todo, artifact, calib, cfg.scoring, dict(scan_cutouts), coadd_bricks, cfg
    ):
        scored["model_fingerprint"] = fp
        progress.update(len(scored))
        yield {name: scored}
    progress.close()


def _plan_shard(shard: pd.DataFrame, index: Any, cfg: ScanConfig) -> pd.DataFrame:
    """The shard with its cutouts located (files by position, else a brick) and its
    data fingerprint."""
    located, _ = index.locate(
        shard["ra"].to_numpy(np.float64), shard["dec"].to_numpy(np.float64), cfg.match_radius_arcsec
    )
    plan = pd.concat([shard.reset_index(drop=True), located], axis=1)
    plan["cutout_origin"] = np.where(
        plan["cutout_file"] == "", "", np.where(plan["cutout_row"] >= 0, "table", "file")
    )
    plan["cutout_error"] = np.where(plan["cutout_file"] == "", "no cutout", "")
    if cfg.bricks_enabled:
        brick = (plan["cutout_file"] == "") & (plan["brickname"].fillna("") != "")
        plan.loc[brick, "cutout_file"] = "brick:" + plan.loc[brick, "brickname"]
        plan.loc[brick, "cutout_origin"] = "brick"
        plan.loc[brick, "cutout_error"] = ""
    plan = fill_from_service(plan, cfg.service)
    plan["data_fingerprint"] = shard_fingerprint(plan)
    return plan


def _same_shard(load: Callable[[], pd.DataFrame], plan: pd.DataFrame) -> bool:
    """Whether a saved shard scored exactly these objects (else it is scored again)."""
    try:
        saved = load()
    except Exception:  # noqa: BLE001 - an unreadable partition is scored again
        return False
    return (
        len(saved) == len(plan)
        and "data_fingerprint" in saved
        and bool((saved["data_fingerprint"] == plan["data_fingerprint"].iloc[0]).all())
    )


def _current_shards(
    scan_sample: dict[str, Callable[[], pd.DataFrame]],
    scan_scores: dict[str, Callable[[], pd.DataFrame]],
    fp: str,
    shard_size: int,
) -> list[str]:
    names = []
    for key in sorted(scan_sample):
        n = len(scan_sample[key]())
        names += [f"{fp}/{key}-{j:05d}" for j in range((n + shard_size - 1) // shard_size)]
    missing = [n for n in names if n not in scan_scores]
    if missing:
        raise ValueError(f"{len(missing)} scan shard(s) were not scored: {missing[:3]}; rerun scan")
    return names


def rank_scan_candidates(
    scan_sample: dict[str, Callable[[], pd.DataFrame]],
    scan_scores: dict[str, Callable[[], pd.DataFrame]],
    lens_finder: dict,
    calibration: dict,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The top candidates and the scan summary, reading the scored shards one at a time.

    Returns
    -------
    candidates : pandas.DataFrame
        :data:`~.scan.inspection.CANDIDATE_COLUMNS` (Legacy Surveys viewer links).
    summary : dict
        Objects scanned, scored and not (per reason), known lenses met, and the expected
        number of lenses among the candidates with its interval.
    """
    cfg = ScanConfig.from_params(params)
    artifact, calib = _model(lens_finder, calibration, cfg)
    fp = model_fingerprint(artifact, calib)
    names = _current_shards(scan_sample, scan_scores, fp, cfg.shard_size)
    reasons: dict[str, int] = {}
    counts = {"objects": 0, "scored": 0}
    known: list[dict[str, Any]] = []

    def shards() -> Iterator[pd.DataFrame]:
        for name in names:
            part = scan_scores[name]()
            counts["objects"] += len(part)
            counts["scored"] += int(part["scored"].sum())
            for r, n in part.loc[~part["scored"], "scan_flags"].value_counts().items():
                reasons[str(r)] = reasons.get(str(r), 0) + int(n)
            k = part[part["known_lens"].fillna("") != ""]
            known.extend(
                k[["object_id", "known_lens", "known_grading", "logit", "p_survey"]].to_dict(
                    "records"
                )
            )
            yield part

    candidates = top_candidates(shards(), cfg.n_candidates)
    top = candidates["p_survey"].to_numpy(np.float64)
    alternatives = _calibration_alternatives(
        candidates["logit"].to_numpy(np.float64), calib, cfg.scoring.survey_prevalence
    )
    summary = {
        "model_fingerprint": fp,
        "objects": counts["objects"],
        "scored": counts["scored"],
        "not_scored": reasons,
        "survey_prevalence": cfg.scoring.survey_prevalence,
        "n_candidates": int(len(candidates)),
        "expected_lenses_among_candidates": expected_lenses(top, alternatives),
        "calibration_uncertainty_included": bool(alternatives),
        "known_lenses": {
            "n": len(known),
            "among_candidates": int((candidates["known_lens"].fillna("") != "").sum()),
            "objects": known[:100],
        },
    }
    logger.info(
        "scan: %d objects, %d scored; expected lenses among the top %d: %.1f",
        counts["objects"],
        counts["scored"],
        len(candidates),
        summary["expected_lenses_among_candidates"]["expected"],
    )
    return candidates, summary


def build_inspection_page(
    scan_candidates: pd.DataFrame,
    scan_summary: dict[str, Any],
    scan_cutouts: dict[str, Callable[[], bytes]],
    coadd_bricks: Callable[[str, str], Any],
    params: dict[str, Any],
) -> str:
    """The HTML gallery of the candidates, with their numbers, links and a grade each."""
    from stronglens_calibration.stamps.shard_reader import CutoutSources, read_shard

    cfg = ScanConfig.from_params(params)
    stamps: list[np.ndarray] = []
    if len(scan_candidates):
        # the cutout each candidate was scored from: no second look-up of the region's files
        plan = scan_candidates.assign(
            brickname=scan_candidates["brickname"].fillna("").astype(str),
            cutout_file=scan_candidates["cutout_file"].fillna("").astype(str),
        )
        pixels, _ = read_shard(
            plan,
            CutoutSources(dict(scan_cutouts), "npz", cfg.checks, cfg.limits),
            coadd_bricks,
            cfg.scoring.stamp_size,
        )
        stamps = list(pixels)
    return inspection_page(scan_candidates, stamps, scan_summary, cfg.display.model_dump())


def _calibration_alternatives(
    logits: np.ndarray, calibration: dict, prevalence: float
) -> tuple[np.ndarray, ...]:
    """The candidates' ``p_survey`` at the ends of the temperature's 95 % interval (none
    when the calibration has no interval, e.g. one written before it was measured)."""
    from stronglens_calibration.evaluation.metrics import survey_probabilities

    if "temperature_ci_low" not in calibration:
        return ()
    out = []
    for key in ("temperature_ci_low", "temperature_ci_high"):
        prior = dict(calibration) | {"temperature": calibration[key]}
        out.append(survey_probabilities(logits, prior | {"survey_prevalence": prevalence}))
    return tuple(out)
