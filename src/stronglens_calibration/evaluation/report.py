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
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``evaluation_report.json`` and its numbers as MLflow metrics.

    Returns
    -------
    report : dict
        Headline keys (``auc``, ``auc_ci_low``, ``auc_ci_high``, ``tpr_at_fpr_1e-2``,
        ``tpr_at_fpr_1e-3``, ``tpr0``, ``tpr10``, ``recall_tier_a``, ``recall_tier_b``,
        ``ece_before``, ``ece_after``, ``temperature``, ``injection_brightness_ratio``,
        ``realism_probe_auc``) and the details behind them.
    metrics : dict
        Flat ``{name: {"value", "step"}}`` for kedro-mlflow.
    """
    ratio = realism["injection_brightness"]["value"]
    probe_auc = realism["realism_probe"]["auc"]
    completeness = {
        op: proportion(int(g["k"].sum()), int(g["n"].sum()))
        for op, g in selection_function.groupby("operating_point", sort=False)
    }
    notes = [
        "Every number is on the test split; only the temperature comes from the validation split.",
        "Thresholds named p_gt_<p> apply to p_calibrated = sigmoid(z / T): probabilities at "
        f"the labelled sample's class balance (lens fraction {calibration['sample_prior']:.3f} "
        "in the training split).",
        "p_survey shifts them to the survey prevalence "
        f"{calibration['survey_prevalence']:g}: logit p_survey = z / T - logit(pi_sample) + "
        "logit(pi_survey). Precision is quoted at the survey prevalence.",
        "FPR-matched thresholds come from the test non-lenses; with n non-lenses an FPR below "
        "1/n is not resolved (resolved: false) and the threshold is the highest non-lens score.",
        "Intervals: AUC by class-stratified bootstrap; proportions by the Jeffreys interval "
        "(95 %).",
    ]
    for name, op in test_metrics["operating_points"].items():
        if op["kind"] == "fpr" and not op["resolved"]:
            notes.append(
                f"{name}: {test_metrics['n_negative']} test non-lenses cannot resolve FPR "
                f"{op['target_fpr']:g}; its TPR is that at zero false positives."
            )
    report = {
        **{k: v for k, v in test_metrics.items() if k != "ece"},
        "ece": test_metrics["ece"],
        "temperature": calibration["temperature"],
        "calibration": calibration,
        "injection_brightness_ratio": ratio,
        "realism_probe_auc": probe_auc,
        "realism": realism,
        "selection_function_completeness": completeness,
        "realism_verdict": realism_verdict(
            ratio,
            probe_auc,
            realism_cfg,
            (realism["realism_probe"]["ci_low"], realism["realism_probe"]["ci_high"]),
        ),
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
        "realism_probe_auc",
    ):
        flat[key] = report[key]
    for key, value in test_metrics.items():
        if key.startswith("tpr_at_fpr_"):
            flat[key] = value
    for key in [k for k in report if k.startswith("recall_tier_")]:
        for op, v in report[key].items():
            flat[f"{key}.{op}"] = v["value"]
    for op, v in report["precision_at_survey_prevalence"].items():
        if isinstance(v, dict):
            flat[f"precision_at_survey_prevalence.{op}"] = v["value"]
    for op, v in completeness.items():
        flat[f"selection_completeness.{op}"] = v["value"]
    flat["ece_after_positives"] = test_metrics["ece"]["after"]["positives"]
    flat["ece_before_positives"] = test_metrics["ece"]["before"]["positives"]
    metrics = {
        f"evaluate.{k}": {"value": float(v), "step": 0}
        for k, v in flat.items()
        if v is not None and np.isfinite(v)
    }
    return report, metrics
