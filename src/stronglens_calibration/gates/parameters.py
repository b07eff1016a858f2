"""The ``shortcut_gates`` parameters: one typed schema of the section, and the gates'
config built from it.

The thresholds are checked against the gate registry (:data:`~.registry.GATES`, read
when the section is parsed): every registered gate needs its threshold, in the form its
rule takes, and a key no gate has is refused, so a gate added to the registry is
configured without touching this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, Strict, field_validator, model_validator

from stronglens_calibration.gates import registry
from stronglens_calibration.gates.arc_suppression import ExcessLight
from stronglens_calibration.gates.registry import GateDefinition
from stronglens_calibration.gates.verdicts import INCONCLUSIVE_RULES
from stronglens_calibration.models.training import TorchDevice
from stronglens_calibration.parameter_schema import (
    Bool,
    Int,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Str,
    bounded_range,
    nearest_key,
    ordered_pair,
)

#: An integer of at least 10 (sample sizes, resamples).
AtLeastTen = Annotated[int, Strict(), Field(ge=10)]


@dataclass(frozen=True)
class GateConfig:
    """What the gates measure and how (built from ``params:shortcut_gates`` by
    :class:`ShortcutGatesParameters`; data and model gates alike).

    ``thresholds`` maps each registered gate's name (:data:`~.registry.GATES`) to its
    threshold; ``inconclusive`` is one of :data:`~.verdicts.INCONCLUSIVE_RULES`;
    ``null_permutations`` label shuffles (0: no null) with ``null_bootstrap`` resamples
    each; ``arc_excess`` how gate 1.7 finds the light it suppresses.
    """

    enforce: bool
    inconclusive: str
    seed: int
    split: str
    max_per_class: int
    core_radius_px: float
    diagnostic_core_radius_px: float
    diagnostic_max_per_class: int
    diagnostic_logistic_c: float
    arc_annulus_px: tuple[float, float]
    noise_annulus_px: tuple[float, float]
    radial_max_px: float
    radial_bin_px: float
    folds: int
    n_bootstrap: int
    logistic_c: float
    null_permutations: int
    null_bootstrap: int
    network_clip_sigma: float
    arc_excess: ExcessLight
    thresholds: dict[str, Any]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GateConfig:
        """Validate ``params:shortcut_gates`` (:class:`ShortcutGatesParameters`)."""
        return ShortcutGatesParameters.from_params(params).gates

    @property
    def radial_rings(self) -> list[tuple[float, float]]:
        """Profile rings (pixels): the core, then rings from the arc annulus' outer edge to
        ``radial_max_px``; the annulus where arcs live is left out."""
        starts = np.arange(self.arc_annulus_px[1], self.radial_max_px, self.radial_bin_px)
        outer = [(float(a), float(min(a + self.radial_bin_px, self.radial_max_px))) for a in starts]
        return [(0.0, self.core_radius_px), *outer]


class Radial(Section):
    """The radial-profile gate's rings: out to ``max_radius_px``, ``bin_width_px`` wide."""

    max_radius_px: PositiveFloat
    bin_width_px: PositiveFloat


class PermutationNull(Section):
    """Label shuffles per class-comparison gate (0: no null), resamples per shuffle."""

    permutations: NonNegativeInt
    bootstrap: AtLeastTen


class ModelGate(Section):
    """Gate 1.7 scores the trained network: batch size, device."""

    batch_size: PositiveInt
    device: TorchDevice


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _threshold(value: Any, gate: GateDefinition) -> Any:
    """A gate's threshold checked by its rule (a ``ValueError`` naming it otherwise)."""
    name = f"shortcut_gates.thresholds.{gate.threshold_key}"

    def number(low: float, high: float | None, strict_low: bool = False) -> float:
        if not _is_number(value):
            raise ValueError(f"parameter {name!r} must be a number, got {value!r}")
        if value < low or (strict_low and value == low) or (high is not None and value > high):
            span = f"({low}, ...)" if strict_low else f"[{low}, {high if high else '...'}]"
            raise ValueError(f"parameter {name!r} must lie in {span}, got {value}")
        return float(value)

    if gate.rule == "interval":
        pair = value if isinstance(value, list | tuple) else ()
        if len(pair) != 2 or not all(_is_number(v) for v in pair):
            raise ValueError(f"parameter {name!r} must be a [min, max] pair, got {value!r}")
        if min(pair) < 0:
            raise ValueError(f"parameter {name!r} must be >= 0, got {list(pair)}")
        try:
            return list(ordered_pair((float(pair[0]), float(pair[1]))))
        except ValueError as exc:
            raise ValueError(f"parameter {name!r} {exc}") from None
    if gate.rule == "auc":
        return number(0.5, 1.0)
    if gate.rule == "probability":
        return number(0.0, 1.0)
    return number(0.0, None, strict_low=True)


class ShortcutGatesParameters(Section):
    """``params:shortcut_gates``; :attr:`gates` is what the gates take."""

    enforce: Bool
    inconclusive: Str
    seed: Int
    split: Literal["train", "val", "test"]
    max_per_class: AtLeastTen
    core_radius_px: PositiveFloat
    diagnostic_core_radius_px: PositiveFloat
    diagnostic_max_per_class: AtLeastTen
    diagnostic_logistic_C: PositiveFloat  # noqa: N815 (the parameter's name)
    arc_annulus_px: bounded_range(0.0)
    noise_annulus_px: bounded_range(0.0)
    arc_suppression: ExcessLight
    network_clip_sigma: PositiveFloat
    radial: Radial
    folds: Annotated[int, Strict(), Field(ge=2)]
    n_bootstrap: AtLeastTen
    permutation_null: PermutationNull
    logistic_C: PositiveFloat  # noqa: N815 (the parameter's name)
    model_gate: ModelGate
    thresholds: dict[Str, Any]

    @field_validator("inconclusive")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value not in INCONCLUSIVE_RULES:
            raise ValueError(
                f"parameter 'shortcut_gates.inconclusive' must be one of "
                f"{list(INCONCLUSIVE_RULES)}, got {value!r}"
            )
        return value

    @field_validator("thresholds")
    @classmethod
    def _registered(cls, value: dict[str, Any]) -> dict[str, Any]:
        import stronglens_calibration.gates.data_gates  # noqa: F401 (registers the data gates)

        keys = {g.threshold_key: g for g in registry.GATES.values()}
        unknown = sorted(set(value) - set(keys))
        if unknown:
            hints = []
            for k in unknown:
                near = nearest_key(k, keys)
                hint = f" (did you mean 'shortcut_gates.thresholds.{near}'?)" if near else ""
                hints.append(f"'shortcut_gates.thresholds.{k}'{hint}")
            raise ValueError(f"unknown gate threshold(s): {', '.join(hints)}")
        missing = sorted(set(keys) - set(value))
        if missing:
            raise ValueError(
                "parameter 'shortcut_gates.thresholds' lacks the threshold of registered "
                f"gate(s): {missing}"
            )
        return {key: _threshold(value[key], gate) for key, gate in keys.items()}

    @model_validator(mode="after")
    def _radial_beyond_arcs(self) -> ShortcutGatesParameters:
        if self.arc_annulus_px[1] >= self.radial.max_radius_px:
            raise ValueError(
                "parameter 'shortcut_gates.radial.max_radius_px' must exceed the outer "
                "radius of 'shortcut_gates.arc_annulus_px'"
            )
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ShortcutGatesParameters:
        """Validate ``params:shortcut_gates``."""
        return cls.parse(params, "shortcut_gates")

    @property
    def gates(self) -> GateConfig:
        """The gates' config."""
        return GateConfig(
            enforce=self.enforce,
            inconclusive=self.inconclusive,
            seed=self.seed,
            split=self.split,
            max_per_class=self.max_per_class,
            core_radius_px=float(self.core_radius_px),
            diagnostic_core_radius_px=float(self.diagnostic_core_radius_px),
            diagnostic_max_per_class=self.diagnostic_max_per_class,
            diagnostic_logistic_c=float(self.diagnostic_logistic_C),
            arc_annulus_px=(float(self.arc_annulus_px[0]), float(self.arc_annulus_px[1])),
            noise_annulus_px=(float(self.noise_annulus_px[0]), float(self.noise_annulus_px[1])),
            radial_max_px=float(self.radial.max_radius_px),
            radial_bin_px=float(self.radial.bin_width_px),
            folds=self.folds,
            n_bootstrap=self.n_bootstrap,
            logistic_c=float(self.logistic_C),
            null_permutations=self.permutation_null.permutations,
            null_bootstrap=self.permutation_null.bootstrap,
            network_clip_sigma=float(self.network_clip_sigma),
            arc_excess=self.arc_suppression,
            thresholds={g.name: self.thresholds[g.threshold_key] for g in registry.GATES.values()},
        )
