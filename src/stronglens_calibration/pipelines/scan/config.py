"""The ``scan`` pipeline's parameters: one typed schema of ``params:scan`` (the cuts come
from ``params:ingest``, so the finder is applied to the population it was trained on)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, field_validator

from stronglens_calibration.models.training import TorchDevice
from stronglens_calibration.parameter_schema import (
    Fraction,
    PositiveFloat,
    PositiveInt,
    Section,
    Str,
    bounded_range,
)
from stronglens_calibration.pipelines.ingest.config import Bricks, CutoutFiles
from stronglens_calibration.pipelines.quality.config import NoCoverage
from stronglens_calibration.scan.scoring import ScoringSettings
from stronglens_calibration.stamps.cutout_service import CutoutService, CutoutServiceConfig
from stronglens_calibration.stamps.store import ReadLimits, StampChecks


class StampRules(Section):
    """Stamp size, apertures (pixels) and no-coverage rules: quality's."""

    stamp_size: PositiveInt
    core_radius_px: PositiveFloat
    annulus_px: bounded_range(0.0)
    no_coverage: NoCoverage


class Display(Section):
    """The thumbnails: Lupton Q and stretch, crop side (pixels)."""

    lupton_q: PositiveFloat
    lupton_stretch: PositiveFloat
    crop: Annotated[int, Strict(), Field(ge=8)]


class ScanConfig(Section):
    """``params:scan``.

    Attributes
    ----------
    engine : str
        ``pandas`` or ``spark``.
    positions_file : str or None
        A CSV of ``ra``, ``dec`` (deg; ``object_id`` optional) to scan instead of sweeps.
    shard_size : int
        Objects per scored shard (the unit of resuming).
    known_radius_arcsec : float
        Objects this close to a lenscat entry are flagged as known.
    n_candidates : int
        Candidates in the table and the inspection page.
    model_run_id : str or None
        Score with the model and calibration of this MLflow run instead of the catalog's.
    device : str
        ``auto`` or a torch device this machine has.
    cpu_threads : int or "auto"
        Threads sharing each shard's statistics (``auto``: the cores, at most 8).
    retain_freed_memory_mib : int
        Freed blocks up to this size (MiB, at most 1024) are kept for reuse while scoring
        (:func:`~stronglens_calibration.allocator.retain_freed_memory`); 0: never.
    cutouts, bricks, cutout_service, quality, display
        The sub-sections; :attr:`scoring`, :attr:`service`, :attr:`checks` and
        :attr:`limits` are what the scan library takes.
    """

    engine: Literal["pandas", "spark"]
    positions_file: Str | None
    shard_size: PositiveInt
    batch_size: PositiveInt
    device: TorchDevice
    cpu_threads: Literal["auto"] | PositiveInt
    retain_freed_memory_mib: Annotated[int, Strict(), Field(ge=0, le=1024)]
    model_run_id: Str | None
    survey_prevalence: Fraction
    known_radius_arcsec: PositiveFloat
    n_candidates: PositiveInt
    cutouts: CutoutFiles
    bricks: Bricks
    cutout_service: CutoutService
    quality: StampRules
    display: Display

    @field_validator("positions_file", "model_run_id")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ScanConfig:
        """Validate ``params:scan``."""
        return cls.parse(params, "scan")

    @property
    def match_radius_arcsec(self) -> float:
        """A cutout file belongs to the nearest object within this."""
        return float(self.cutouts.match_radius_arcsec)

    @property
    def bricks_enabled(self) -> bool:
        """Cut objects without a file from coadd bricks."""
        return self.bricks.enabled

    @property
    def service(self) -> CutoutServiceConfig:
        """The Legacy Surveys cutout service, for objects without a file or brick."""
        return self.cutout_service.config(self.quality.stamp_size)

    @property
    def checks(self) -> StampChecks:
        """What each file's header must agree with."""
        return self.cutouts.checks

    @property
    def limits(self) -> ReadLimits:
        """Largest cutout file and decoded content (larger ones get a reason, no score)."""
        return self.cutouts.limits

    @property
    def scoring(self) -> ScoringSettings:
        """Apertures, quality rules, batch size, survey prevalence and threads."""
        q = self.quality
        threads = (
            max(1, min(os.cpu_count() or 1, 8)) if self.cpu_threads == "auto" else self.cpu_threads
        )
        return ScoringSettings(
            stamp_size=q.stamp_size,
            core_radius_px=float(q.core_radius_px),
            annulus_px=(float(q.annulus_px[0]), float(q.annulus_px[1])),
            coverage_core_radius_px=float(q.no_coverage.core_radius_px),
            min_zero_run_px=q.no_coverage.min_run_px,
            max_no_coverage_fraction=float(q.no_coverage.max_fraction),
            batch_size=self.batch_size,
            survey_prevalence=float(self.survey_prevalence),
            threads=int(threads),
        )
