"""The ``evaluate`` pipeline's parameters: one typed schema of ``params:evaluate``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, Strict, field_validator

from stronglens_calibration.evaluation.baseline import BaselineConfig
from stronglens_calibration.evaluation.calibration import prior_logit
from stronglens_calibration.evaluation.injection import InjectionParameters
from stronglens_calibration.evaluation.metrics import MetricsConfig
from stronglens_calibration.evaluation.selection import RealismConfig
from stronglens_calibration.gates.arc_suppression import ExcessLight
from stronglens_calibration.models.training import TorchDevice
from stronglens_calibration.parameter_schema import (
    Bool,
    Float,
    Fraction,
    Int,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    Range,
    Section,
    Tiers,
    bounded_range,
    tier_names,
)


class Realism(Section):
    """Do the injections look like the real lenses: their range of lensed r magnitude,
    the central aperture (pixels), the arc-light finder, the probe's folds and what is
    accepted."""

    lensed_mag_r: Range
    aperture_radius_px: PositiveFloat
    arc_light: ExcessLight
    probe_folds: Annotated[int, Strict(), Field(ge=2)]
    brightness_ratio_ok: Range
    probe_auc_ok: Annotated[float, Strict(), Field(ge=0.5, le=1.0)]


class Baseline(Section):
    """The ring-statistics baseline: ring edges (pixels), boosting settings and the FPR
    its TPR is compared at."""

    rings_px: tuple[NonNegativeFloat, ...]
    max_iter: PositiveInt
    learning_rate: PositiveFloat
    max_leaf_nodes: Annotated[int, Strict(), Field(ge=2)]
    fpr_target: Fraction

    @field_validator("rings_px")
    @classmethod
    def _increasing(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) < 2 or any(hi <= lo for lo, hi in zip(value[:-1], value[1:], strict=True)):
            raise ValueError(
                "parameter 'evaluate.baseline.rings_px' must be two or more increasing ring "
                f"edges in pixels, got {list(value)}"
            )
        return value


class Gallery(Section):
    """Stamps shown per row and their display (crop side in pixels, Lupton Q, stretch)."""

    n_per_row: PositiveInt
    crop: Annotated[int, Strict(), Field(ge=8)]
    lupton_q: PositiveFloat
    lupton_stretch: PositiveFloat


class EvaluateConfig(Section):
    """``params:evaluate``; :attr:`metrics`, :attr:`realism_config` and
    :attr:`baseline_config` are what the evaluation library takes."""

    seed: Int
    device: TorchDevice
    allow_failed_model_gate: Bool
    batch_size: PositiveInt
    tiers: Tiers
    survey_prevalence: Fraction
    probability_thresholds: tuple[Float, ...]
    fpr_targets: tuple[Fraction, ...]
    n_bootstrap: Annotated[int, Strict(), Field(ge=10)]
    ece_bins: PositiveInt
    core_radius_px: PositiveFloat
    annulus_px: bounded_range(0.0)
    injection_hosts_exclude_confusers: Bool
    injection: InjectionParameters
    realism: Realism
    baseline: Baseline
    gallery: Gallery

    @field_validator("survey_prevalence")
    @classmethod
    def _prevalence(cls, value: float) -> float:
        prior_logit(value, "parameter 'evaluate.survey_prevalence'")
        return value

    @field_validator("probability_thresholds")
    @classmethod
    def _probabilities(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for t in value:
            if not 0 < t < 1:
                raise ValueError(
                    f"parameter 'evaluate.probability_thresholds' must lie in (0, 1), got {t}"
                )
        return value

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EvaluateConfig:
        """Validate ``params:evaluate``."""
        return cls.parse(params, "evaluate")

    @property
    def metrics(self) -> MetricsConfig:
        """What the test metrics measure."""
        return MetricsConfig(
            survey_prevalence=float(self.survey_prevalence),
            probability_thresholds=tuple(float(t) for t in self.probability_thresholds),
            fpr_targets=tuple(float(f) for f in self.fpr_targets),
            n_bootstrap=self.n_bootstrap,
            ece_bins=self.ece_bins,
            seed=self.seed,
            tiers=tier_names(self.tiers),
        )

    @property
    def realism_config(self) -> RealismConfig:
        """The injection-realism checks."""
        r = self.realism
        return RealismConfig(
            lensed_mag_r=(float(r.lensed_mag_r[0]), float(r.lensed_mag_r[1])),
            aperture_radius_px=float(r.aperture_radius_px),
            sky_annulus_px=(float(self.annulus_px[0]), float(self.annulus_px[1])),
            core_radius_px=float(self.core_radius_px),
            probe_folds=r.probe_folds,
            brightness_ratio_ok=(float(r.brightness_ratio_ok[0]), float(r.brightness_ratio_ok[1])),
            probe_auc_ok=float(r.probe_auc_ok),
            n_bootstrap=self.n_bootstrap,
            seed=self.seed,
            arc_light=r.arc_light,
        )

    @property
    def baseline_config(self) -> BaselineConfig:
        """The ring-statistics baseline."""
        b = self.baseline
        return BaselineConfig(
            rings_px=tuple(float(x) for x in b.rings_px),
            max_iter=b.max_iter,
            learning_rate=float(b.learning_rate),
            max_leaf_nodes=b.max_leaf_nodes,
            seed=self.seed,
        )
