"""The ``quality`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.checks import ParamReader


@dataclass(frozen=True)
class QualityConfig:
    """Validated ``params:quality``: stamp size and apertures (pixels), batch size,
    worker processes and engine."""

    stamp_size: int
    core_radius_px: float
    annulus_px: tuple[float, float]
    batch_size: int
    n_workers: int
    engine: str
    coverage_core_radius_px: float = 5.0
    min_zero_run_px: int = 3
    max_no_coverage_fraction: float = 0.25

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> QualityConfig:
        p = ParamReader(params, "quality")
        return cls(
            stamp_size=p.integer("stamp_size", low=1),
            core_radius_px=p.positive("core_radius_px"),
            annulus_px=p.interval("annulus_px", low=0),
            batch_size=p.integer("batch_size", low=1),
            n_workers=p.integer("n_workers", low=1),
            engine=p.choice("engine", ["pandas", "spark"]),
            coverage_core_radius_px=p.section("no_coverage").positive("core_radius_px"),
            min_zero_run_px=p.section("no_coverage").integer("min_run_px", low=1),
            max_no_coverage_fraction=p.section("no_coverage").fraction("max_fraction"),
        )
