"""The evaluation report: every test metric, the calibration, the selection function and
the realism checks in one document, with notes a reader needs, and the same numbers as
flat metrics for MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.evaluation.selection import RealismConfig, realism_verdict
from stronglens_calibration.stats import proportion


def evaluation_report(
    calibration: Mapping[str, Any],
    test_metrics: Mapping[str, Any],
    realism: Mapping[str, Any],
    selection_function: pd.DataFrame,
    realism_cfg: RealismConfig,
    baseline: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``evaluation_report.json`` and its numbers as MLflow metrics.

    Returns
    -------
    report : dict
        Headline keys (``auc``, ``auc_ci_low``, ``auc_ci_high``, ``tpr_at_fpr_1e-2``,
        ``tpr_at_fpr_1e-3``, ``tpr0``, ``tpr10``, ``recall_tier_a``, ``recall_tier_b``,
        ``ece_before``, ``ece_after``, ``temperature``, ``injection_brightness_ratio``,
        ``arc_brightness_ratio``, ``realism_probe_auc``) and the details behind them.
    metrics : dict
        Flat ``{name: {"value", "step"}}`` for kedro-mlflow.
    """
    ratio = realism["injection_brightness"]["value"]
    arc_ratio = realism["arc_brightness"]["value"] if "arc_brightness" in realism else None
    probe_auc = realism["realism_probe"]["auc"]
    completeness = {
        op: proportion(int(g["k"].sum()), int(g["n"].sum()))
        for op, g in selection_function.groupby("operating_point", sort=False)
    }
    notes = [
        "Every number is on the test split; the temperature and the operating thresholds "
        "come from the validation split.",
        "Thresholds named p_gt_<p> apply to p_calibrated = sigmoid(z / T): probabilities at "
        f"the labelled sample's class balance (lens fraction {calibration['sample_prior']:.3f} "
        "in the training split).",
        "p_survey shifts them to the survey prevalence "
        f"{calibration['survey_prevalence']:g}: logit p_survey = z / T - logit(pi_sample) + "
        "logit(pi_survey). Precision is quoted at the survey prevalence.",
        "FPR-matched thresholds are chosen on the validation non-lenses and applied to the "
        "test split, whose FPR at them is measured (fpr, with its interval), never read back "
        "from the target. A target below 1/n of either split's non-lenses is not resolved "
        "(resolved: false; its validation threshold is the highest non-lens score), and "
        "its rates are not logged to MLflow as numbers.",
        "Intervals: AUC by class-stratified bootstrap; proportions by the Jeffreys interval "
        "(95 %). They describe the sampling of this test split for this one trained "
        "network and exclude training variance: another training seed can move a rate by "
        "more than its interval (retrain with other train.seed values to see it).",
    ]
    for name, op in test_metrics["operating_points"].items():
        if op["kind"] == "fpr" and not op["resolved"]:
            notes.append(
                f"{name}: {op['n_negative_chosen_on']} validation and "
                f"{test_metrics['n_negative']} test non-lenses cannot resolve FPR "
                f"{op['target_fpr']:g}; its threshold is the highest validation non-lens "
                "score and its rates are upper bounds on what the test can say."
            )
    report = {
        **{k: v for k, v in test_metrics.items() if k != "ece"},
        "ece": test_metrics["ece"],
        "temperature": calibration["temperature"],
        "calibration": calibration,
        "injection_brightness_ratio": ratio,
        "arc_brightness_ratio": arc_ratio,
        "realism_probe_auc": probe_auc,
        "realism": realism,
        "selection_function_completeness": completeness,
        "realism_verdict": realism_verdict(
            ratio,
            probe_auc,
            realism_cfg,
            (realism["realism_probe"]["ci_low"], realism["realism_probe"]["ci_high"]),
            arc_ratio,
        ),
        "baseline": dict(baseline) if baseline else None,
        "notes": notes,
    }
    flat: dict[str, float] = {}
    for key in (
        "auc",
        "auc_ci_low",
        "auc_ci_high",
        "tpr0",
        "tpr10",
        "ece_before",
        "ece_after",
        "temperature",
        "injection_brightness_ratio",
        "arc_brightness_ratio",
        "realism_probe_auc",
    ):
        if report[key] is not None:
            flat[key] = report[key]
    ops = test_metrics["operating_points"]
    resolved = {name: bool(op.get("resolved", True)) for name, op in ops.items()}
    for name, ok in resolved.items():  # the status is logged; an unresolved rate is not
        flat[f"resolved.{name}"] = float(ok)
    for key, value in test_metrics.items():
        if key.startswith("tpr_at_fpr_") and resolved.get(key.removeprefix("tpr_at_"), True):
            flat[key] = value
    for key in [k for k in report if k.startswith("recall_tier_")]:
        for op, v in report[key].items():
            if resolved.get(op, True):
                flat[f"{key}.{op}"] = v["value"]
    for op, v in report["precision_at_survey_prevalence"].items():
        if isinstance(v, dict) and v.get("resolved", True):
            flat[f"precision_at_survey_prevalence.{op}"] = v["value"]
    for op, v in completeness.items():
        if resolved.get(op, True):
            flat[f"selection_completeness.{op}"] = v["value"]
    transfer = test_metrics.get("region_transfer") or {}
    if transfer.get("available"):
        flat["region_transfer.auc_held_out_regions"] = transfer["held_out_regions"]["auc"]
        flat["region_transfer.auc_fine_pixels"] = transfer["fine_pixels"]["auc"]
        flat["region_transfer.auc_difference"] = transfer["auc_difference"]
        flat["region_transfer.permutation_p"] = transfer["permutation_p"]
    if baseline:
        flat["baseline_auc"] = baseline["baseline_auc"]
        flat["cnn_minus_baseline_auc"] = baseline["auc_difference"]
    flat["ece_after_positives"] = test_metrics["ece"]["after"]["positives"]
    flat["ece_before_positives"] = test_metrics["ece"]["before"]["positives"]
    metrics = {
        f"evaluate.{k}": {"value": float(v), "step": 0}
        for k, v in flat.items()
        if v is not None and np.isfinite(v)
    }
    return report, metrics
