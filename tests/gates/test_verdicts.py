"""Three-state verdicts from intervals, the sample growth that would settle an
inconclusive gate, and which gates stop an enforced run."""

from __future__ import annotations

import math

import pytest

from stronglens_calibration.gates.verdicts import (
    blocking,
    interval_verdict,
    overall,
    point_passes,
    sample_size_factor,
)


@pytest.mark.parametrize(
    ("rule", "interval", "threshold", "expected"),
    [
        ("max", (0.02, 0.08), 0.1, "pass"),
        ("max", (0.05, 0.16), 0.1, "inconclusive"),
        ("max", (0.12, 0.30), 0.1, "fail"),
        ("max", (0.10, 0.30), 0.1, "fail"),  # max is open at the top: 0.1 does not pass
        ("interval", (0.97, 1.04), [0.95, 1.05], "pass"),
        ("interval", (0.92, 1.07), [0.95, 1.05], "inconclusive"),  # wider than the window
        ("interval", (1.10, 1.60), [0.95, 1.05], "fail"),
        ("interval", (0.50, 0.90), [0.95, 1.05], "fail"),
        ("auc", (0.47, 0.54), 0.55, "pass"),
        ("auc", (0.50, 0.58), 0.55, "inconclusive"),
        ("auc", (0.60, 0.70), 0.55, "fail"),
        ("auc", (0.30, 0.42), 0.55, "fail"),  # an inverted AUC separates the classes too
        ("auc", (0.40, 0.48), 0.55, "inconclusive"),
        ("min", (1.5, 2.5), 1.0, "pass"),
        ("min", (0.6, 1.4), 1.0, "inconclusive"),
        ("min", (0.05, 0.4), 1.0, "fail"),
        ("probability", (0.28, 0.45), 0.3, "inconclusive"),
        ("max", (float("nan"), float("nan")), 0.1, "inconclusive"),
    ],
)
def test_interval_verdicts(rule, interval, threshold, expected):
    assert interval_verdict(rule, *interval, threshold) == expected


def test_a_point_estimate_alone_is_judged_as_before():
    assert point_passes("auc", 0.52, 0.55) and not point_passes("auc", 0.373, 0.6)
    assert point_passes("interval", 1.05, [0.95, 1.05])
    assert not point_passes("max", float("nan"), 0.1)


def test_the_sample_that_would_settle_an_inconclusive_interval():
    # value 0.02, upper end 0.16, threshold 0.1: the upper half-width (0.14) must
    # shrink to 0.08, i.e. by 0.14/0.08 = 1.75 in sqrt(n): 3.06x the sample
    assert sample_size_factor("max", 0.02, 0.0, 0.16, 0.1) == pytest.approx((0.14 / 0.08) ** 2)
    # a ratio leaning to the failing side: settling means a fail, its lower end must pass 1.05
    f = sample_size_factor("interval", 1.08, 1.02, 1.14, [0.95, 1.05])
    assert f == pytest.approx((0.06 / 0.03) ** 2)
    # both edges straddled: the worse one decides
    both = sample_size_factor("interval", 1.0, 0.9, 1.12, [0.95, 1.05])
    assert both == pytest.approx(max((0.1 / 0.05) ** 2, (0.12 / 0.05) ** 2))
    assert sample_size_factor("max", 0.02, 0.01, 0.05, 0.1) is None  # settled already
    assert math.isinf(sample_size_factor("max", 0.1, 0.05, 0.15, 0.1))


def _gate(verdict, point_passes):
    return {"verdict": verdict, "point_passes": point_passes}


def test_which_gates_stop_an_enforced_run():
    gates = {
        "a": _gate("pass", True),
        "b": _gate("inconclusive", True),
        "c": _gate("inconclusive", False),
        "d": _gate("fail", False),
    }
    assert blocking(gates, "stop_if_point_fails") == ["c", "d"]
    assert blocking(gates, "stop") == ["b", "c", "d"]
    assert blocking(gates, "continue") == ["d"]
    assert overall(gates) == "fail"
    assert overall({"a": gates["a"], "b": gates["b"]}) == "inconclusive"
    with pytest.raises(ValueError, match="'inconclusive'"):
        blocking(gates, "maybe")
