"""The registry of shortcut gates: each gate's report key, MLflow metric, threshold key
(under ``shortcut_gates.thresholds``), kind and measurement, in one table.

``data`` gates run on the training split before training (:func:`~.data_gates.run_data_gates`
runs every one of them, in table order); ``model`` gates need the trained network and run
after it (:mod:`~.model_gate`). Adding a gate is one entry here, its measurement function
and its threshold in ``conf/base/parameters_shortcut_gates.yml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.gates.verdicts import interval_verdict, point_passes

#: How a threshold is read and applied: ``max`` (value below it), ``min`` (value at or
#: above it), ``interval`` (value in ``[low, high]``), ``auc`` (a threshold t in [0.5, 1]:
#: the AUC within ``(1 - t, t)``, i.e. ``|AUC - 0.5| < t - 0.5``; a classifier ranked the
#: wrong way round separates the classes too), ``probability`` (in [0, 1], value below).
#: Verdicts are taken on intervals (:mod:`~.verdicts`).
THRESHOLD_RULES: tuple[str, ...] = ("max", "min", "interval", "auc", "probability")


@dataclass(frozen=True)
class GateDefinition:
    """One shortcut gate.

    Attributes
    ----------
    name : str
        Key in the gate report (``gate_1_6_core_only``).
    metric : str
        MLflow metric name of its value.
    threshold_key : str
        Key of its threshold under ``shortcut_gates.thresholds``.
    rule : str
        One of :data:`THRESHOLD_RULES`.
    kind : str
        ``data`` (before training) or ``model`` (after).
    statistic : str
        What is measured, in one line (docs and reports).
    measure : callable or None
        For data gates, ``measure(inputs, cfg) -> entry``; model gates are measured by
        their own function (they need the network).
    label_measure : callable or None
        For data gates that compare the classes, ``label_measure(inputs, cfg)`` returns
        a :data:`~.null.LabelMeasure` (the statistic for any labelling), from which the
        permutation null is measured; ``None`` for a gate that is not a class
        comparison.
    """

    name: str
    metric: str
    threshold_key: str
    rule: str
    kind: str
    statistic: str
    measure: Callable[..., dict[str, Any]] | None = None
    label_measure: Callable[..., Any] | None = None

    def passes(self, value: float, threshold: Any) -> bool:
        """Whether a point estimate lies where this gate's threshold allows."""
        return point_passes(self.rule, value, threshold)

    def verdict(self, ci_low: float, ci_high: float, threshold: Any) -> str:
        """``pass``, ``fail`` or ``inconclusive`` of a 95 % interval."""
        return interval_verdict(self.rule, ci_low, ci_high, threshold)


#: Every gate, in report order (filled by the modules that measure them).
GATES: dict[str, GateDefinition] = {}


def register_gate(gate: GateDefinition) -> GateDefinition:
    """Add a gate to :data:`GATES` (names and metrics must be new)."""
    if gate.rule not in THRESHOLD_RULES:
        raise ValueError(f"gate {gate.name!r}: 'rule' must be one of {THRESHOLD_RULES}")
    if gate.kind not in ("data", "model"):
        raise ValueError(f"gate {gate.name!r}: 'kind' must be 'data' or 'model'")
    if gate.name in GATES or any(g.metric == gate.metric for g in GATES.values()):
        raise ValueError(f"gate {gate.name!r} or its metric {gate.metric!r} exists already")
    GATES[gate.name] = gate
    return gate


def gates_of_kind(kind: str) -> list[GateDefinition]:
    """The registered gates of one kind, in order."""
    return [g for g in GATES.values() if g.kind == kind]


#: Gate 1.7, a model gate: measured after training by :mod:`~.model_gate`.
GATE_1_7 = register_gate(
    GateDefinition(
        name="gate_1_7_arc_suppressed",
        metric="gate_1_7_arc_suppressed_excess_p",
        threshold_key="arc_suppressed_excess_p",
        rule="probability",
        kind="model",
        statistic="mean probability of arc-suppressed validation lenses minus that of "
        "equally suppressed non-lenses",
    )
)
