"""The ``quality`` pipeline's parameters: one typed schema of ``params:quality``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from stronglens_calibration.parameter_schema import (
    Fraction,
    PositiveFloat,
    PositiveInt,
    Section,
    bounded_range,
)


class NoCoverage(Section):
    """Exact zeros where no exposure is: a run of at least ``min_run_px`` within
    ``core_radius_px`` of the centre, or more than ``max_fraction`` of a band, quarantines
    the stamp."""

    core_radius_px: PositiveFloat
    min_run_px: PositiveInt
    max_fraction: Fraction


class QualityConfig(Section):
    """``params:quality``: stamp size and apertures (pixels), stamps in memory per worker,
    worker processes, engine, and the no-coverage rules."""

    stamp_size: PositiveInt
    core_radius_px: PositiveFloat
    annulus_px: bounded_range(0.0)
    batch_size: PositiveInt
    n_workers: PositiveInt
    engine: Literal["pandas", "spark"]
    no_coverage: NoCoverage

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> QualityConfig:
        """Validate ``params:quality``."""
        return cls.parse(params, "quality")
