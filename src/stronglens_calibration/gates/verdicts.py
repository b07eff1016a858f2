"""Verdicts from intervals: a gate passes when its whole 95 % interval lies where the
threshold allows, fails when the whole interval lies beyond it, and is inconclusive when
the interval straddles the threshold (the data cannot tell; more objects would).

The pass region of each threshold rule (:data:`~.registry.THRESHOLD_RULES`):

* ``max`` and ``probability``: values below ``t``;
* ``min``: values at or above ``t``;
* ``interval``: values in ``[low, high]``;
* ``auc``: values in ``(1 - t, t)`` (two-sided: an inverted AUC separates the classes too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: The three states, from best to worst.
VERDICTS: tuple[str, ...] = ("pass", "inconclusive", "fail")

#: What an inconclusive gate does to a run whose gates are enforced.
INCONCLUSIVE_RULES: tuple[str, ...] = ("stop_if_point_fails", "stop", "continue")


def pass_region(rule: str, threshold: Any) -> tuple[float, float]:
    """``(low, high)`` of the values a threshold allows (``-inf``/``inf`` for open ends)."""
    if rule == "interval":
        return float(threshold[0]), float(threshold[1])
    if rule == "auc":
        return 1.0 - float(threshold), float(threshold)
    if rule == "min":
        return float(threshold), math.inf
    return -math.inf, float(threshold)


def _side(rule: str, value: float, threshold: Any) -> int:
    """-1 below the pass region, 0 inside, +1 above (``auc`` is open at both ends,
    ``max`` and ``probability`` at the top; NaN counts as outside, below)."""
    low, high = pass_region(rule, threshold)
    if not math.isfinite(value):
        return -1
    if value < low or (value == low and rule == "auc"):
        return -1
    if value > high or (value == high and rule in ("max", "probability", "auc")):
        return 1
    return 0


def point_passes(rule: str, value: float, threshold: Any) -> bool:
    """The verdict of a point estimate alone (what older reports called ``passed``)."""
    return _side(rule, value, threshold) == 0


def interval_verdict(rule: str, ci_low: float, ci_high: float, threshold: Any) -> str:
    """``pass``, ``fail`` or ``inconclusive`` of a 95 % interval against a threshold.

    An interval that could not be measured (NaN ends) is inconclusive: nothing is known.
    """
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return "inconclusive"
    low_side, high_side = _side(rule, ci_low, threshold), _side(rule, ci_high, threshold)
    if low_side == high_side == 0:
        return "pass"
    if low_side == high_side:
        return "fail"
    return "inconclusive"


def separation(rule: str, value: float, threshold: Any) -> float:
    """How far a value lies from "no difference between the classes": ``|AUC - 0.5|``
    for AUCs, the distance from the middle of the allowed window for ratios, the value
    itself for the ``max`` gates (they measure an absolute difference)."""
    if rule == "auc":
        return abs(value - 0.5)
    if rule == "interval":
        low, high = pass_region(rule, threshold)
        return abs(value - 0.5 * (low + high))
    return value


def sample_size_factor(
    rule: str, value: float, ci_low: float, ci_high: float, threshold: Any
) -> float | None:
    """By how much the sample would have to grow for an inconclusive interval to settle,
    assuming the point estimate stays and the interval shrinks as ``1/sqrt(n)``.

    For each threshold edge the interval straddles, the interval's end on the far side
    of the edge from the point estimate must move to the edge: with ``h`` the distance
    from the value to that end and ``d`` the distance from the value to the edge, the
    sample must grow by ``(h / d)**2``. ``None`` when the interval does not straddle an
    edge, ``inf`` when the value sits on one.
    """
    edges = [e for e in pass_region(rule, threshold) if math.isfinite(e)]
    factors = []
    for edge in edges:
        if not ci_low <= edge <= ci_high:
            continue
        far = ci_high if value <= edge else ci_low
        if value == edge:
            return math.inf
        factors.append(((far - value) / (edge - value)) ** 2)
    return max(factors) if factors else None


def blocking(gates: Mapping[str, Mapping[str, Any]], inconclusive: str) -> list[str]:
    """Names of the gates that stop an enforced run: every ``fail``, and the
    ``inconclusive`` ones as the rule says (``stop_if_point_fails``: those whose point
    estimate is on the failing side; ``stop``: all; ``continue``: none)."""
    if inconclusive not in INCONCLUSIVE_RULES:
        raise ValueError(
            f"'inconclusive' must be one of {INCONCLUSIVE_RULES}, not {inconclusive!r}"
        )
    out = []
    for name, g in gates.items():
        leaning_fail = not g["point_passes"]
        stops_if_open = inconclusive == "stop" or (
            inconclusive == "stop_if_point_fails" and leaning_fail
        )
        if g["verdict"] == "fail" or (g["verdict"] == "inconclusive" and stops_if_open):
            out.append(name)
    return out


def overall(gates: Mapping[str, Mapping[str, Any]]) -> str:
    """The worst verdict among the gates (``pass`` when there is none)."""
    worst = max((VERDICTS.index(g["verdict"]) for g in gates.values()), default=0)
    return VERDICTS[worst]
