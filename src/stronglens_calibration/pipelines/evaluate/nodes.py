"""Nodes of the ``evaluate`` pipeline: wiring over :mod:`stronglens_calibration.evaluation`.

Only ``score_validation`` reads validation rows (for the temperature); every test metric,
the selection function and the gallery read test rows alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.evaluation import plots
from stronglens_calibration.evaluation.calibration import calibrate_on_validation
from stronglens_calibration.evaluation.injection import plan_injections as _plan
from stronglens_calibration.evaluation.metrics import (
    choose_operating_points,
    measure_test_metrics,
)
from stronglens_calibration.evaluation.report import evaluation_report
from stronglens_calibration.evaluation.scoring import score_split
from stronglens_calibration.evaluation.selection import (
    injection_hosts,
    measure_realism,
    render_injections,
    score_injections,
    tabulate_selection_function,
)
from stronglens_calibration.pipelines.evaluate.config import EvaluateConfig
from stronglens_calibration.pipelines.shortcut_gates.clearance import (
    check_data_verdict,
    check_model_gate,
)
from stronglens_calibration.stamps.generations import shards_for_table

Stamps = dict[str, Callable[[], np.ndarray]]


def _device(cfg: EvaluateConfig) -> Any:
    from stronglens_calibration.models.training import select_device

    return select_device(cfg.device)


def clear_for_evaluation(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    data_gates_passed: dict[str, Any],
    model_gate_report: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Evaluate only a model the gates let through, on the data they measured: the
    data-gate verdict must name this ``objects_split``, gate 1.7 this model and data,
    and a failed gate 1.7 stops the evaluation unless
    ``evaluate.allow_failed_model_gate`` says otherwise (the run is then tagged
    ``evaluate.override``).

    Returns
    -------
    dict
        ``model_gate_verdict`` and ``override``.
    """
    cfg = EvaluateConfig.from_params(params)
    check_data_verdict(data_gates_passed, objects_split, "evaluating")
    clearance = check_model_gate(
        model_gate_report, lens_finder, objects_split, cfg.allow_failed_model_gate
    )
    if clearance["override"]:
        _tag_run({"evaluate.override": "model_gate_1_7_failed"})
    return clearance


def _tag_run(tags: dict[str, str]) -> None:
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.set_tags(tags)


def score_validation(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: Stamps,
    evaluation_clearance: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Logits of the validation split (for the temperature only), once
    :func:`clear_for_evaluation` has let the model through."""
    cfg = EvaluateConfig.from_params(params)
    stamps = shards_for_table(objects_split, stamps, "objects_split")
    return score_split(lens_finder, objects_split, stamps, "val", cfg.batch_size, _device(cfg))


def score_test(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: Stamps,
    evaluation_clearance: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Logits of the test split; the only stamps the test metrics come from (once
    :func:`clear_for_evaluation` has let the model through)."""
    cfg = EvaluateConfig.from_params(params)
    stamps = shards_for_table(objects_split, stamps, "objects_split")
    return score_split(lens_finder, objects_split, stamps, "test", cfg.batch_size, _device(cfg))


def fit_calibration(
    val_scores: pd.DataFrame, objects_split: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """Temperature on the validation split, priors (labels only, no stamp) and the
    operating thresholds, chosen on the validation non-lenses (no test label sets one)."""
    cfg = EvaluateConfig.from_params(params)
    calibration = calibrate_on_validation(
        val_scores,
        objects_split,
        cfg.metrics.survey_prevalence,
        n_bootstrap=min(cfg.metrics.n_bootstrap, 200),  # each resample is one 1-D fit
        seed=cfg.seed,
    )
    calibration["operating_points"] = choose_operating_points(val_scores, calibration, cfg.metrics)
    return calibration


def evaluate_test(
    test_scores: pd.DataFrame, calibration: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every test-split metric (with the held-out regions against the fine test pixels,
    :func:`~.evaluation.transfer.region_transfer`) and the ranked candidate table."""
    from stronglens_calibration.evaluation.transfer import region_transfer

    cfg = EvaluateConfig.from_params(params).metrics
    metrics, candidates = measure_test_metrics(test_scores, calibration, cfg)
    metrics["region_transfer"] = region_transfer(
        test_scores, calibration["operating_points"], cfg.tiers, cfg.n_bootstrap, cfg.seed
    )
    return metrics, candidates


def plan_injections(objects_split: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """One row per injection into a usable test non-lens: host, cell, arc parameters."""
    cfg = EvaluateConfig.from_params(params)
    hosts = injection_hosts(objects_split, cfg.injection_hosts_exclude_confusers)
    return _plan(hosts, cfg.injection.config(), cfg.seed)


def render_injected_stamps(
    injection_plan: pd.DataFrame, stamps: Stamps, params: dict[str, Any]
) -> np.ndarray:
    """The hosts' stamps with the planned arcs added (float32 ``(n, 3, H, W)``)."""
    cfg = EvaluateConfig.from_params(params)
    return render_injections(injection_plan, stamps, cfg.injection.config(), cfg.seed)


def score_injected_stamps(
    lens_finder: dict,
    injection_plan: pd.DataFrame,
    injected_stamps: np.ndarray,
    test_metrics: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Logits, aperture fluxes and detections of the injections; their features."""
    cfg = EvaluateConfig.from_params(params)
    return score_injections(
        lens_finder,
        injection_plan,
        injected_stamps,
        test_metrics["operating_points"],
        cfg.realism_config,
        cfg.batch_size,
        _device(cfg),
    )


def tabulate_selection(
    injections: pd.DataFrame, test_metrics: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """Completeness per operating point and (PSF, theta_E, magnitude) cell."""
    injection = EvaluateConfig.from_params(params).injection.config()
    return tabulate_selection_function(injections, test_metrics["operating_points"], injection)


def check_realism(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: Stamps,
    injections: pd.DataFrame,
    injection_features: np.ndarray,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Brightness ratio and linear probe: injections against the real test lenses."""
    cfg = EvaluateConfig.from_params(params)
    return measure_realism(
        lens_finder,
        objects_split,
        stamps,
        injections,
        injection_features,
        cfg.realism_config,
        cfg.batch_size,
        _device(cfg),
    )


def fit_baseline(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> pd.DataFrame:
    """The ring-statistics baseline, trained on train, its iterations chosen on val: its
    validation and test scores (:func:`~.evaluation.baseline.fit_ring_baseline`)."""
    from stronglens_calibration.evaluation.baseline import fit_ring_baseline

    baseline = EvaluateConfig.from_params(params).baseline_config
    return fit_ring_baseline(objects_split, stamps, baseline)


def compare_baseline(
    test_candidates: pd.DataFrame, baseline_scores: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """``baseline_report.json``: the CNN against the baseline on the same test objects."""
    from stronglens_calibration.evaluation.baseline import compare_with_baseline

    cfg = EvaluateConfig.from_params(params)
    return compare_with_baseline(
        test_candidates, baseline_scores, cfg.baseline.fpr_target, cfg.metrics.n_bootstrap, cfg.seed
    )


def assemble_evaluation_report(
    calibration: dict[str, Any],
    test_metrics: dict[str, Any],
    realism: dict[str, Any],
    selection_function: pd.DataFrame,
    baseline_report: dict[str, Any],
    evaluation_clearance: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``evaluation_report.json`` (with the gate-1.7 verdict the model was cleared on, and
    whether that took an override) and its numbers as MLflow metrics."""
    cfg = EvaluateConfig.from_params(params)
    report, metrics = evaluation_report(
        calibration, test_metrics, realism, selection_function, cfg.realism_config, baseline_report
    )
    report["clearance"] = dict(evaluation_clearance)
    return report, metrics


def plot_roc(candidates: pd.DataFrame, report: dict[str, Any]) -> matplotlib.figure.Figure:
    """ROC curve of the test split with the operating points."""
    return plots.roc_figure(candidates[candidates["scored"]], report)


def plot_score_histograms(
    candidates: pd.DataFrame, report: dict[str, Any], params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """Calibrated probabilities per class, tier and confuser category."""
    thresholds = {
        name: op["threshold_p_calibrated"] for name, op in report["operating_points"].items()
    }
    tiers = EvaluateConfig.from_params(params).metrics.tiers
    return plots.score_histograms(candidates[candidates["scored"]], thresholds, tiers)


def plot_reliability(candidates: pd.DataFrame, report: dict[str, Any]) -> matplotlib.figure.Figure:
    """Reliability diagram of the test split before and after temperature scaling."""
    rows = candidates[candidates["scored"]]
    return plots.reliability_figure(
        rows["label"].to_numpy(int),
        rows["p_raw"].to_numpy(float),
        rows["p_calibrated"].to_numpy(float),
        int(report["ece_bins"]),
        report["ece"],
    )


def plot_completeness(selection_function: pd.DataFrame) -> matplotlib.figure.Figure:
    """Completeness maps per operating point and PSF bin."""
    return plots.completeness_figure(
        selection_function, list(selection_function["operating_point"].unique())
    )


def plot_gallery(
    candidates: pd.DataFrame, objects_split: pd.DataFrame, stamps: Stamps, params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """g, r, z composites of the top-ranked and the misranked test objects."""
    g = EvaluateConfig.from_params(params).gallery
    panels = plots.candidate_panels(candidates, objects_split, stamps, g.n_per_row)
    return plots.gallery_figure(panels, g.lupton_q, g.lupton_stretch, g.crop)
