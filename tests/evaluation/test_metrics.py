"""Operating points, intervals and calibration: the numbers the report is made of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from stronglens_calibration.evaluation.calibration import (
    calibration_summary,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    survey_logits,
)
from stronglens_calibration.evaluation.operating_points import (
    precision_at_prevalence,
    threshold_at_fpr,
    tpr_with_fewer_fp_than,
)
from stronglens_calibration.stats import jeffreys_interval, proportion


def test_jeffreys_interval_matches_published_values_and_edges():
    # Brown, Cai & DasGupta (2001): Jeffreys interval for 5 / 10 is about (0.224, 0.776)
    lo, hi = jeffreys_interval(5, 10)
    assert lo == pytest.approx(0.2235, abs=2e-3)
    assert hi == pytest.approx(0.7765, abs=2e-3)
    lo, hi = jeffreys_interval(np.array([0, 7, 0]), np.array([7, 7, 0]))
    assert lo[0] == 0.0 and hi[1] == 1.0
    assert 0 < hi[0] < 0.5 and 0.5 < lo[1] < 1
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    with pytest.raises(ValueError, match="successes"):
        jeffreys_interval(3, 2)


def test_jeffreys_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    p, n = 0.08, 40
    k = rng.binomial(n, p, 4000)
    lo, hi = jeffreys_interval(k, n)
    coverage = ((lo <= p) & (p <= hi)).mean()
    assert 0.92 < coverage < 0.985


def test_proportion_reports_counts():
    r = proportion(3, 12)
    assert r["k"] == 3 and r["n"] == 12 and r["value"] == 0.25
    assert r["ci_low"] < 0.25 < r["ci_high"]


def test_fpr_threshold_lets_through_at_most_the_allowed_negatives():
    rng = np.random.default_rng(0)
    neg = rng.normal(size=1000)
    t = threshold_at_fpr(neg, 1e-2)
    assert t.allowed_fp == 10 and t.resolved
    assert t.n_fp == (neg > t.threshold).sum() == 10
    assert t.achieved_fpr == pytest.approx(0.01)
    # 300 negatives cannot resolve 1e-3: the threshold is the top negative, no FP
    small = threshold_at_fpr(neg[:300], 1e-3)
    assert not small.resolved and small.allowed_fp == 0
    assert small.threshold == neg[:300].max() and small.n_fp == 0
    with pytest.raises(ValueError, match="no negatives"):
        threshold_at_fpr(np.array([]), 0.01)


def test_fpr_threshold_with_tied_scores_never_exceeds_the_allowance():
    neg = np.r_[np.zeros(95), np.ones(5)]  # five tied top scores, 2 allowed
    t = threshold_at_fpr(neg, 0.02)
    assert t.n_fp <= 2


def test_tpr0_and_tpr10_follow_the_bologna_definitions():
    neg = np.arange(20, dtype=float)  # scores 0..19
    pos = np.array([25.0, 21.0, 18.5, 15.5, 10.5, 5.0])
    # TPR0: above the highest negative (19): 25, 21
    assert tpr_with_fewer_fp_than(pos, neg, 0) == pytest.approx(2 / 6)
    # TPR10: at most 9 false positives, threshold = 10th highest negative = 10
    assert tpr_with_fewer_fp_than(pos, neg, 9) == pytest.approx(5 / 6)


def test_precision_at_survey_prevalence():
    assert precision_at_prevalence(0.8, 0.01, 1e-3) == pytest.approx(
        0.8e-3 / (0.8e-3 + 0.01 * 0.999)
    )
    assert precision_at_prevalence(0.5, 0.0, 1e-3) == 1.0
    with pytest.raises(ValueError, match="'prevalence'"):
        precision_at_prevalence(0.5, 0.1, 1.5)


def _calibrated_sample(n, seed, prior=0.25):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prior).astype(int)
    # a logit that is exactly calibrated at the sample's class balance
    d = 2.5
    x = rng.normal(np.where(y == 1, d / 2, -d / 2), 1.0)
    z = d * x + logit(prior)
    return z, y


def test_temperature_recovers_an_overconfident_scale():
    z, y = _calibrated_sample(20000, 3)
    fit = fit_temperature(3.0 * z, y)
    assert fit.temperature == pytest.approx(3.0, rel=0.05)
    assert fit.nll_after < fit.nll_before
    assert not fit.at_bound
    ece_before = expected_calibration_error(expit(3.0 * z), y, 15)
    ece_after = expected_calibration_error(expit(3.0 * z / fit.temperature), y, 15)
    assert ece_after < 0.3 * ece_before
    with pytest.raises(ValueError, match="both classes"):
        fit_temperature(z[y == 0], y[y == 0])


def test_ece_is_small_when_calibrated_and_per_class_ece_sees_the_positives():
    z, y = _calibrated_sample(20000, 4, prior=0.01)
    p = expit(z)
    good = calibration_summary(p, y, 10)
    assert good["overall"] < 0.01
    # push only the high-probability objects up: few objects, so the overall ECE over
    # a 99 % negative sample barely moves, the positives' ECE does
    bad = np.where(p > 0.2, np.minimum(p * 2.5, 0.999), p)
    worse = calibration_summary(bad, y, 10)
    assert worse["positives"] > 5 * good["positives"]
    assert worse["positives"] > 3 * worse["overall"]


def test_prior_shift_follows_bayes_rule():
    # a sample at 25 % lenses, ranked in a survey at 0.1 %: the same likelihood ratio
    z, y = _calibrated_sample(200000, 5, prior=0.25)
    lr = z - logit(0.25)
    z_survey = survey_logits(z, 1.0, 0.25, 1e-3)
    assert np.allclose(z_survey, lr + logit(1e-3))
    # an independent survey-like sample drawn with the same class likelihoods
    rng = np.random.default_rng(6)
    n = 400000
    ys = (rng.random(n) < 1e-3).astype(int)
    d = 2.5
    xs = rng.normal(np.where(ys == 1, d / 2, -d / 2), 1.0)
    ps = expit(survey_logits(d * xs + logit(0.25), 1.0, 0.25, 1e-3))
    top = ps > 0.5
    assert ys[top].mean() == pytest.approx(ps[top].mean(), abs=0.1)
    assert negative_log_likelihood(logit(ps), ys) < negative_log_likelihood(
        d * xs + logit(0.25), ys
    )
    with pytest.raises(ValueError, match="'survey_prior'"):
        survey_logits(z, 1.0, 0.25, 0.0)


def test_operating_thresholds_come_from_validation_and_the_test_fpr_is_measured():
    """An FPR-matched threshold is set on the validation non-lenses; on the test split the
    false-positive rate at it is counted, not read back from the target."""
    from stronglens_calibration.evaluation.metrics import (
        MetricsConfig,
        choose_operating_points,
        measure_test_metrics,
    )

    rng = np.random.default_rng(3)
    cfg = MetricsConfig(1e-3, (0.5,), (1e-2, 1e-3), 50, 10, 0, ("A", "B"))

    def scores(n_neg, n_pos, shift):
        return pd.DataFrame(
            {
                "object_id": [f"o{i}" for i in range(n_neg + n_pos)],
                "logit": np.r_[rng.normal(-2, 1, n_neg), rng.normal(1.5, 1, n_pos)] + shift,
                "label": np.r_[np.zeros(n_neg, int), np.ones(n_pos, int)],
                "scored": True,
                "tier": np.r_[[""] * n_neg, ["A"] * n_pos],
                "confuser_category": "none",
            }
        )

    calibration = {"temperature": 1.0, "sample_prior": 0.25, "survey_prevalence": 1e-3}
    val = scores(400, 100, 0.0)
    ops = choose_operating_points(val, calibration, cfg)
    assert {op["chosen_on"] for op in ops.values()} == {"val"}
    assert ops["fpr_1e-2"]["resolved"] and not ops["fpr_1e-3"]["resolved"]
    assert ops["fpr_1e-2"]["n_negative_chosen_on"] == 400
    test = scores(300, 80, 0.4)  # the test non-lenses score higher than validation's
    metrics, _ = measure_test_metrics(test, calibration | {"operating_points": ops}, cfg)
    op = metrics["operating_points"]["fpr_1e-2"]
    neg = test.loc[test["label"] == 0, "logit"].to_numpy()
    assert op["threshold_logit"] == ops["fpr_1e-2"]["threshold_logit"]
    assert op["fpr"] == pytest.approx(np.mean(neg > op["threshold_logit"]))
    assert op["fpr"] > 0.01  # a shifted test split shows it; a test-chosen threshold hides it
    assert op["resolved_on_val"] and op["resolved_on_test"]
    assert not metrics["operating_points"]["fpr_1e-3"]["resolved"]
    with pytest.raises(ValueError, match="operating thresholds"):
        measure_test_metrics(test, calibration, cfg)
