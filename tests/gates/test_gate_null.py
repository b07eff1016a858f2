"""The gates' permutation null: pseudo-classes drawn from one population (no difference
at all) must fail at no more than the nominal rate, and the null's p-values must be
uniform; a real difference must give a small p-value."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.gates.data_gates import (
    NORMALISATION_COLUMNS,
    GateConfig,
    GateInputs,
    core_brightness_measure,
    core_only_measure,
    largest_abs_interval,
    normalisation_measure,
)
from stronglens_calibration.gates.null import permutation_null
from tests.gates.test_data_gates import PARAMS


def _one_population(n: int, seed: int) -> GateInputs:
    """``n`` objects from one heavy-tailed population, with pseudo-labels (a third
    'lenses') and non-lens weights like a matching's (lognormal, lenses 1)."""
    rng = np.random.default_rng(seed)
    sample = pd.DataFrame({c: rng.lognormal(0.0, 0.5, n) for c in NORMALISATION_COLUMNS})
    sample["core_flux_r"] = rng.lognormal(0.0, 0.8, n)
    y = (rng.random(n) < 1 / 3).astype(int)
    w = np.where(y == 1, 1.0, rng.lognormal(0.0, 0.3, n))
    crops = rng.lognormal(0.0, 0.5, (n, 3, 5, 5)).astype(np.float32)
    return GateInputs(sample, y, w, crops)


def _cfg() -> GateConfig:
    params = copy.deepcopy(PARAMS)
    params["folds"] = 3
    return GateConfig.from_params(params)


@pytest.mark.parametrize(
    ("name", "factory", "repeats", "permutations"),
    [
        ("gate_1_8_core_brightness", core_brightness_measure, 60, 39),
        ("gate_1_5_normalisation", normalisation_measure, 40, 39),
        ("gate_1_6_core_only", core_only_measure, 20, 19),
    ],
)
def test_pseudo_classes_of_one_population_fail_at_most_at_the_nominal_rate(
    name, factory, repeats, permutations
):
    """Under the null the interval verdict says ``fail`` in at most ~5 % of the runs (the
    true value is "no difference", inside every gate's window), and the permutation
    p-value is uniform: p <= 0.2 in about a fifth of the runs."""
    from stronglens_calibration.gates.registry import GATES

    cfg, gate = _cfg(), GATES[name]
    threshold = cfg.thresholds[name]
    fails, small_p = 0, 0
    for k in range(repeats):
        inputs = _one_population(240, seed=k)
        measure = factory(inputs, cfg)
        value, (lo, hi) = measure(inputs.y, inputs.w, 100, k)
        fails += gate.verdict(lo, hi, threshold) == "fail"
        null = permutation_null(
            measure, inputs.y, inputs.w, gate.rule, threshold, value, permutations, 20, k
        )
        small_p += null["p_value"] <= 0.2
    from scipy.stats import binom

    # a 5 % rate gives more fails than this in 1 of 1,000 test runs
    assert fails <= binom.ppf(0.999, repeats, 0.05), (name, fails)
    rate = small_p / repeats
    sd = np.sqrt(0.2 * 0.8 / repeats)
    assert abs(rate - 0.2) <= 3 * sd + 1 / permutations, (name, rate)


def test_a_real_difference_has_a_small_null_p_value():
    cfg = _cfg()
    inputs = _one_population(300, seed=1)
    brighter = inputs.sample.copy()
    brighter.loc[inputs.y == 1, "core_flux_r"] *= 1.6
    shifted = GateInputs(brighter, inputs.y, inputs.w, inputs.crops)
    measure = core_brightness_measure(shifted, cfg)
    value, _ = measure(inputs.y, inputs.w, 100, 0)
    null = permutation_null(measure, inputs.y, inputs.w, "interval", [0.95, 1.05], value, 99, 20, 0)
    assert null["p_value"] == pytest.approx(0.01)  # none of 99 shuffles comes close
    assert null["quantiles"]["2.5"] < 1.0 < null["quantiles"]["97.5"] < value


def test_the_largest_abs_interval_contains_the_point_estimate_and_is_joint():
    """The percentile interval of a resampled maximum can miss its own value; the
    per-column (Bonferroni) interval of max|d| cannot, and it covers the true maximum."""
    rng = np.random.default_rng(0)
    true = np.array([0.0, 0.05, -0.02])
    covered = 0
    for _ in range(200):
        estimate = true + rng.normal(0, 0.04, 3)
        samples = estimate + rng.normal(0, 0.04, (400, 3))
        lo, hi = largest_abs_interval(samples)
        assert lo <= np.max(np.abs(estimate)) <= hi
        covered += lo <= np.max(np.abs(true)) <= hi
    assert covered >= 0.93 * 200
