"""Test-split metrics of a lens finder: operating points, recall per tier, FPR per
confuser category, precision at the survey prevalence, calibration error; and the ranked
candidate table. Thresholds are kept on the raw logit, so that one number selects the
same objects whatever the probability scale. Kedro-free."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.evaluation.calibration import (
    calibration_summary,
    expected_calibration_error,
    prior_logit,
    probabilities,
    survey_logits,
)
from stronglens_calibration.evaluation.operating_points import (
    precision_at_prevalence,
    threshold_at_fpr,
    tpr_with_fewer_fp_than,
)
from stronglens_calibration.stats import bootstrap, bootstrap_auc, proportion, weighted_auc

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsConfig:
    """What the test metrics measure.

    Attributes
    ----------
    survey_prevalence : float
        Lenses per galaxy in the survey (``p_survey`` and precision).
    probability_thresholds : tuple of float
        Operating points on ``p_calibrated``.
    fpr_targets : tuple of float
        Operating points at a false-positive rate.
    n_bootstrap, ece_bins, seed : int
        Bootstrap resamples, equal-mass calibration bins, seed.
    tiers : tuple of str
        Lens tiers, most confident first; recall is reported per tier.
    """

    survey_prevalence: float
    probability_thresholds: tuple[float, ...]
    fpr_targets: tuple[float, ...]
    n_bootstrap: int
    ece_bins: int
    seed: int
    tiers: tuple[str, ...]


def fpr_label(fpr: float) -> str:
    """``1e-2`` for 0.01: the key used in reports and metric names."""
    mantissa, exponent = f"{fpr:e}".split("e")
    m = float(mantissa)
    return f"{m:g}e{int(exponent)}"


def raw_logit_of(p_calibrated: float, calibration: Mapping[str, Any]) -> float:
    """The raw logit at which the calibrated probability is ``p_calibrated``."""
    return float(calibration["temperature"] * prior_logit(p_calibrated, "a probability threshold"))


def calibrated_probabilities(logits: np.ndarray, calibration: Mapping[str, Any]) -> np.ndarray:
    """``sigmoid(z / T)``: probabilities at the labelled sample's class balance."""
    return probabilities(np.asarray(logits, dtype=np.float64) / calibration["temperature"])


def survey_probabilities(logits: np.ndarray, calibration: Mapping[str, Any]) -> np.ndarray:
    """Calibrated probabilities shifted to the survey prevalence."""
    return probabilities(
        survey_logits(
            logits,
            calibration["temperature"],
            calibration["sample_prior"],
            calibration["survey_prevalence"],
        )
    )


def operating_thresholds(
    negative_logits: np.ndarray, calibration: Mapping[str, Any], cfg: MetricsConfig
) -> dict[str, dict[str, Any]]:
    """Raw-logit thresholds: fixed calibrated probabilities and FPR-matched ones.

    Returns
    -------
    dict
        ``p_gt_<p>`` and ``fpr_<f>`` to ``threshold_logit`` and, for FPR-matched
        thresholds, ``allowed_fp`` and ``resolved``.
    """
    ops: dict[str, dict[str, Any]] = {}
    for t in cfg.probability_thresholds:
        ops[f"p_gt_{t:g}"] = {
            "threshold_logit": raw_logit_of(t, calibration),
            "kind": "probability",
        }
    for f in cfg.fpr_targets:
        ft = threshold_at_fpr(negative_logits, float(f))
        ops[f"fpr_{fpr_label(float(f))}"] = {
            "threshold_logit": ft.threshold,
            "kind": "fpr",
            "target_fpr": ft.target_fpr,
            "allowed_fp": ft.allowed_fp,
            "resolved": ft.resolved,
        }
    for op in ops.values():
        z = np.array([op["threshold_logit"]])
        op["threshold_p_calibrated"] = float(calibrated_probabilities(z, calibration)[0])
    return ops


def choose_operating_points(
    val_scores: pd.DataFrame, calibration: Mapping[str, Any], cfg: MetricsConfig
) -> dict[str, dict[str, Any]]:
    """Operating thresholds chosen on the validation split, to be applied to the test
    split: no test label ever sets a threshold, so the test FPR at an FPR-matched
    threshold is a measurement (with its interval), not the target read back.

    Parameters
    ----------
    val_scores : pandas.DataFrame
        ``logit``, ``label``, ``scored`` of the validation objects.
    calibration : Mapping
        The temperature fitted on the same split.
    cfg : MetricsConfig
        The operating points.

    Returns
    -------
    dict
        :func:`operating_thresholds` with ``chosen_on: "val"`` and, for FPR-matched
        thresholds, ``n_negative_chosen_on``.
    """
    rows = val_scores[val_scores["scored"]]
    negatives = rows.loc[rows["label"] == 0, "logit"].to_numpy(float)
    if negatives.size == 0:
        raise ValueError("the validation split has no scored non-lens to set thresholds on")
    ops = operating_thresholds(negatives, calibration, cfg)
    for op in ops.values():
        op["chosen_on"] = "val"
        if op["kind"] == "fpr":
            op["n_negative_chosen_on"] = int(negatives.size)
    return ops


def measure_test_metrics(
    test_scores: pd.DataFrame, calibration: Mapping[str, Any], cfg: MetricsConfig
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every test-split metric, and the ranked candidate table.

    The operating thresholds are those of ``calibration["operating_points"]``
    (:func:`choose_operating_points`, on the validation split); an FPR-matched one is
    ``resolved`` only when both splits hold enough non-lenses to see its target once
    (``resolved_on_val``, ``resolved_on_test``).

    Returns
    -------
    metrics : dict
        AUC with its bootstrap interval, operating points (threshold, TPR, FPR with
        Jeffreys intervals), TPR0/TPR10, recall per tier, FPR per confuser category,
        precision at the survey prevalence, ECE before and after calibration.
    candidates : pandas.DataFrame
        Test objects by decreasing score: ``rank``, ``p_raw`` (the network's sigmoid),
        ``p_calibrated`` (labelled-sample prevalence), ``p_survey`` (survey prevalence).
    """
    level = 0.95
    scored = test_scores[test_scores["scored"]]
    y = scored["label"].to_numpy(int)
    z = scored["logit"].to_numpy(float)
    pos, neg = y == 1, y == 0
    if pos.sum() == 0 or neg.sum() == 0:
        raise ValueError(
            f"the test split needs lenses and non-lenses; it has {int(pos.sum())} and "
            f"{int(neg.sum())} scored"
        )
    n_boot, seed = cfg.n_bootstrap, cfg.seed
    auc = weighted_auc(y, z, np.ones(len(y)))
    auc_lo, auc_hi = bootstrap_auc(y, z, np.ones(len(y)), n_boot, seed)
    if "operating_points" not in calibration:
        raise ValueError(
            "the calibration holds no operating thresholds chosen on the validation split "
            "(written by an older version): rerun `kedro run --pipelines evaluate`"
        )
    ops = {name: dict(op) for name, op in calibration["operating_points"].items()}
    for op in ops.values():
        if op["kind"] == "fpr":
            op["resolved_on_val"] = bool(op["resolved"])
            op["resolved_on_test"] = bool(op["target_fpr"] * int(neg.sum()) >= 1)
            op["resolved"] = op["resolved_on_val"] and op["resolved_on_test"]
    tier = scored["tier"].to_numpy(str)
    category = scored["confuser_category"].to_numpy(str)
    survey = calibration["survey_prevalence"]
    recall: dict[str, dict[str, Any]] = {t: {} for t in cfg.tiers}
    fpr_by_category: dict[str, dict[str, Any]] = {c: {} for c in sorted(set(category[neg]))}
    precision: dict[str, Any] = {}
    for name, op in ops.items():
        sel = z > op["threshold_logit"]
        k_tp, k_fp = int(sel[pos].sum()), int(sel[neg].sum())
        tpr = proportion(k_tp, int(pos.sum()), level)
        fpr = proportion(k_fp, int(neg.sum()), level)
        op.update(tpr=tpr["value"], tpr_ci_low=tpr["ci_low"], tpr_ci_high=tpr["ci_high"])
        op.update(fpr=fpr["value"], fpr_ci_low=fpr["ci_low"], fpr_ci_high=fpr["ci_high"])
        op.update(n_tp=k_tp, n_fp=k_fp)
        for t in cfg.tiers:
            rows = pos & (tier == t)
            recall[t][name] = proportion(int(sel[rows].sum()), int(rows.sum()), level)
        for c, by_op in fpr_by_category.items():
            rows = neg & (category == c)
            by_op[name] = proportion(int(sel[rows].sum()), int(rows.sum()), level)
        precision[name] = {
            "value": precision_at_prevalence(tpr["value"], fpr["value"], survey),
            # pessimistic end: fewest lenses found, most non-lenses let through
            "lower": precision_at_prevalence(tpr["ci_low"], fpr["ci_high"], survey),
            "upper": precision_at_prevalence(tpr["ci_high"], fpr["ci_low"], survey),
            # with no false positive on test the point value is 1 whatever the truth
            "resolved": bool(k_fp > 0 and op.get("resolved", True)),
        }
    p_raw = probabilities(z)
    p_cal = calibrated_probabilities(z, calibration)
    n_bins = cfg.ece_bins
    ece: dict[str, Any] = {}
    for name, prob in (("before", p_raw), ("after", p_cal)):
        ece[name] = calibration_summary(prob, y, n_bins)
        ece[name]["overall_ci_low"], ece[name]["overall_ci_high"] = bootstrap(
            lambda idx, prob=prob: expected_calibration_error(prob[idx], y[idx], n_bins),
            y,
            n_boot,
            seed,
        )
    metrics: dict[str, Any] = {
        "split": "test",
        "n_positive": int(pos.sum()),
        "n_negative": int(neg.sum()),
        **{f"n_tier_{t.lower()}": int((pos & (tier == t)).sum()) for t in cfg.tiers},
        "n_unscored": int((~test_scores["scored"]).sum()),
        "auc": auc,
        "auc_ci_low": auc_lo,
        "auc_ci_high": auc_hi,
        "tpr0": tpr_with_fewer_fp_than(z[pos], z[neg], 0),
        "tpr10": tpr_with_fewer_fp_than(z[pos], z[neg], 9),
        "operating_points": ops,
        **{f"recall_tier_{t.lower()}": recall[t] for t in cfg.tiers},
        "fpr_by_confuser_category": fpr_by_category,
        "precision_at_survey_prevalence": {"prevalence": survey, **precision},
        "ece_before": ece["before"]["overall"],
        "ece_after": ece["after"]["overall"],
        "ece": ece,
        "ece_bins": n_bins,
    }
    for name, op in ops.items():
        if op["kind"] == "fpr":
            metrics[f"tpr_at_{name}"] = op["tpr"]
    candidates = test_scores.copy()
    candidates["p_raw"] = probabilities(candidates["logit"].to_numpy(float))
    candidates["p_calibrated"] = calibrated_probabilities(
        candidates["logit"].to_numpy(float), calibration
    )
    candidates["p_survey"] = survey_probabilities(candidates["logit"].to_numpy(float), calibration)
    for name, op in ops.items():
        candidates[f"selected_{name}"] = candidates["logit"] > op["threshold_logit"]
    candidates = candidates.sort_values("logit", ascending=False, na_position="last", kind="stable")
    candidates.insert(0, "rank", np.arange(1, len(candidates) + 1))
    if {"ra", "dec"} <= set(candidates.columns):  # to look each one up
        from stronglens_calibration.sky.viewer import viewer_url

        candidates["viewer_url"] = [
            viewer_url(float(ra), float(dec))
            for ra, dec in zip(candidates["ra"], candidates["dec"], strict=True)
        ]
    logger.info(
        "test: AUC %.3f [%.3f, %.3f], TPR0 %.2f, TPR10 %.2f, ECE %.3f -> %.3f",
        auc,
        auc_lo,
        auc_hi,
        metrics["tpr0"],
        metrics["tpr10"],
        metrics["ece_before"],
        metrics["ece_after"],
    )
    return metrics, candidates.reset_index(drop=True)
