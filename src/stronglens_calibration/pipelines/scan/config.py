"""The ``scan`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.models.training import check_device
from stronglens_calibration.pipelines.ingest.config import read_limits
from stronglens_calibration.scan.scoring import ScoringSettings
from stronglens_calibration.stamps.cutout_service import CutoutServiceConfig
from stronglens_calibration.stamps.store import ReadLimits, StampChecks


@dataclass(frozen=True)
class ScanConfig:
    """Validated ``params:scan`` (the cuts come from ``params:ingest``, so the finder is
    applied to the population it was trained on).

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
    match_radius_arcsec : float
        A cutout file belongs to the nearest object within this.
    bricks_enabled : bool
        Cut objects without a file from coadd bricks.
    service : CutoutServiceConfig
        The Legacy Surveys cutout service, for objects without a file or brick.
    scoring : ScoringSettings
        Apertures, quality rules, batch size, survey prevalence.
    checks : StampChecks
        What each file's header must agree with.
    limits : ReadLimits
        Largest cutout file and decoded content (larger ones get a reason, no score).
    n_candidates : int
        Candidates in the table and the inspection page.
    model_run_id : str or None
        Score with the model and calibration of this MLflow run instead of the catalog's.
    device : str
        ``auto`` or a torch device.
    retain_freed_memory_mib : int
        Freed blocks up to this size (MiB) are kept for reuse while scoring
        (:func:`~stronglens_calibration.allocator.retain_freed_memory`); 0: never.
    display : dict
        ``lupton_q``, ``lupton_stretch``, ``crop`` of the thumbnails.
    """

    engine: str
    positions_file: str | None
    shard_size: int
    known_radius_arcsec: float
    match_radius_arcsec: float
    bricks_enabled: bool
    service: CutoutServiceConfig
    scoring: ScoringSettings
    checks: StampChecks
    limits: ReadLimits
    n_candidates: int
    model_run_id: str | None
    device: str
    retain_freed_memory_mib: int
    display: dict[str, float]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ScanConfig:
        p = ParamReader(params, "scan")
        q = p.section("quality")
        cov = q.section("no_coverage")
        c = p.section("cutouts")
        d = p.section("display")
        positions = p.raw("positions_file")
        run_id = p.raw("model_run_id")
        return cls(
            engine=p.choice("engine", ["pandas", "spark"]),
            positions_file=None if positions in (None, "") else str(positions),
            shard_size=p.integer("shard_size", low=1),
            known_radius_arcsec=p.positive("known_radius_arcsec"),
            match_radius_arcsec=c.positive("match_radius_arcsec"),
            bricks_enabled=p.section("bricks").boolean("enabled"),
            service=CutoutServiceConfig.from_params(
                p.raw("cutout_service"), q.integer("stamp_size", low=1), "scan.cutout_service"
            ),
            scoring=ScoringSettings(
                stamp_size=q.integer("stamp_size", low=1),
                core_radius_px=q.positive("core_radius_px"),
                annulus_px=q.interval("annulus_px", low=0),
                coverage_core_radius_px=cov.positive("core_radius_px"),
                min_zero_run_px=cov.integer("min_run_px", low=1),
                max_no_coverage_fraction=cov.fraction("max_fraction"),
                batch_size=p.integer("batch_size", low=1),
                survey_prevalence=p.number("survey_prevalence", low=0, high=1),
                threads=_threads(p),
            ),
            checks=StampChecks(
                centre_tolerance_arcsec=c.positive("centre_tolerance_arcsec"),
                pixel_scale=c.positive("pixel_scale"),
                pixel_scale_tolerance=c.fraction("pixel_scale_tolerance"),
            ),
            limits=read_limits(c),
            n_candidates=p.integer("n_candidates", low=1),
            model_run_id=None if run_id in (None, "") else str(run_id),
            device=check_device(str(p.raw("device")), "scan.device"),
            retain_freed_memory_mib=_retain(p),
            display={
                "lupton_q": d.positive("lupton_q"),
                "lupton_stretch": d.positive("lupton_stretch"),
                "crop": d.integer("crop", low=8),
            },
        )


def _threads(p: ParamReader) -> int:
    """``cpu_threads``: ``auto`` (this machine's cores, at most 8) or an integer >= 1."""
    value = p.raw("cpu_threads")
    if value == "auto":
        return max(1, min(os.cpu_count() or 1, 8))
    return p.integer("cpu_threads", low=1)


def _retain(p: ParamReader) -> int:
    """``retain_freed_memory_mib``: an integer in [0, 1024]."""
    value = p.integer("retain_freed_memory_mib", low=0)
    if value > 1024:
        raise ValueError(
            f"parameter 'scan.retain_freed_memory_mib' must be at most 1024, got {value}"
        )
    return value
