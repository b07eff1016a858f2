"""The ``evaluate`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.evaluation.baseline import BaselineConfig
from stronglens_calibration.evaluation.calibration import prior_logit
from stronglens_calibration.evaluation.injection import InjectionConfig
from stronglens_calibration.evaluation.metrics import MetricsConfig
from stronglens_calibration.evaluation.selection import RealismConfig
from stronglens_calibration.gates.arc_suppression import ExcessLight
from stronglens_calibration.models.training import check_device


@dataclass(frozen=True)
class GalleryConfig:
    """Stamps shown per row and their display (crop side in pixels, Lupton Q, stretch)."""

    n_per_row: int
    crop: int
    lupton_q: float
    lupton_stretch: float


@dataclass(frozen=True)
class EvaluateConfig:
    """Validated ``params:evaluate``."""

    seed: int
    device: str
    batch_size: int
    metrics: MetricsConfig
    hosts_exclude_confusers: bool
    injection: InjectionConfig
    realism: RealismConfig
    gallery: GalleryConfig
    baseline: BaselineConfig
    baseline_fpr: float
    allow_failed_model_gate: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EvaluateConfig:
        p = ParamReader(params, "evaluate")
        survey = p.number("survey_prevalence", low=0, high=1)
        prior_logit(survey, "parameter 'evaluate.survey_prevalence'")
        thresholds = []
        for value in p.raw("probability_thresholds"):
            t = float(value)
            if not 0 < t < 1:
                raise ValueError(
                    f"parameter 'evaluate.probability_thresholds' must lie in (0, 1), got {t}"
                )
            thresholds.append(t)
        seed = p.integer("seed")
        n_boot = p.integer("n_bootstrap", low=10)
        annulus = p.interval("annulus_px", low=0)
        r = p.section("realism")
        g = p.section("gallery")
        b = p.section("baseline")
        rings = [float(x) for x in b.raw("rings_px")]
        if len(rings) < 2 or any(hi <= lo for lo, hi in zip(rings[:-1], rings[1:], strict=True)):
            raise ValueError(
                "parameter 'evaluate.baseline.rings_px' must be two or more increasing ring "
                f"edges in pixels, got {rings}"
            )
        return cls(
            allow_failed_model_gate=p.boolean("allow_failed_model_gate"),
            seed=seed,
            device=check_device(str(p.raw("device")), "evaluate.device"),
            batch_size=p.integer("batch_size", low=1),
            metrics=MetricsConfig(
                survey_prevalence=survey,
                probability_thresholds=tuple(thresholds),
                fpr_targets=tuple(float(f) for f in p.raw("fpr_targets")),
                n_bootstrap=n_boot,
                ece_bins=p.integer("ece_bins", low=1),
                seed=seed,
                tiers=tuple(dict.fromkeys(p.tiers("tiers").values())),
            ),
            hosts_exclude_confusers=p.boolean("injection_hosts_exclude_confusers"),
            injection=InjectionConfig.from_params(p.raw("injection")),
            realism=RealismConfig(
                lensed_mag_r=r.interval("lensed_mag_r"),
                aperture_radius_px=r.positive("aperture_radius_px"),
                sky_annulus_px=annulus,
                core_radius_px=p.positive("core_radius_px"),
                probe_folds=r.integer("probe_folds", low=2),
                brightness_ratio_ok=r.interval("brightness_ratio_ok"),
                probe_auc_ok=r.number("probe_auc_ok", low=0.5, high=1.0),
                n_bootstrap=n_boot,
                seed=seed,
                arc_light=ExcessLight.from_reader(r.section("arc_light")),
            ),
            gallery=GalleryConfig(
                n_per_row=g.integer("n_per_row", low=1),
                crop=g.integer("crop", low=8),
                lupton_q=g.positive("lupton_q"),
                lupton_stretch=g.positive("lupton_stretch"),
            ),
            baseline=BaselineConfig(
                rings_px=tuple(rings),
                max_iter=b.integer("max_iter", low=1),
                learning_rate=b.positive("learning_rate"),
                max_leaf_nodes=b.integer("max_leaf_nodes", low=2),
                seed=seed,
            ),
            baseline_fpr=b.number("fpr_target", low=0, high=1),
        )
