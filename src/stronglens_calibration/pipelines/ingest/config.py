"""The ``ingest`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.catalogues.selection import SelectionConfig
from stronglens_calibration.checks import ParamReader
from stronglens_calibration.stamps.cutout_service import CutoutServiceConfig
from stronglens_calibration.stamps.store import ReadLimits, StampChecks


@dataclass(frozen=True)
class PositivesConfig:
    """Which lenscat rows are lens candidates, and their tiers."""

    ref_patterns: tuple[str, ...]
    name_patterns: tuple[str, ...]
    tier_of_grading: dict[str, str]
    lens_types: tuple[str, ...]
    merge_radius_arcsec: float


@dataclass(frozen=True)
class CutoutsConfig:
    """Where stamps come from and how the store is laid out.

    Attributes
    ----------
    stamp_size : int
        Side of every stamp in pixels; cutouts of another size are quarantined.
    shard_size : int
        Stamps per ``.npy`` shard.
    parquet_npz_column : str
        Binary column of parquet tables holding NPZ files.
    n_workers : int
        Processes decoding cutouts (pandas engine).
    staging_dir : str
        Where Spark executors write shards before they are moved into the store.
    bricks_enabled : bool
        Cut objects without a file from coadd bricks.
    match_radius_arcsec : float
        A cutout belongs to the nearest object within this separation.
    checks : StampChecks
        What each file's header must agree with (centre, pixel scale).
    limits : ReadLimits
        Largest cutout file and decoded content (larger ones are quarantined).
    """

    stamp_size: int
    shard_size: int
    parquet_npz_column: str
    n_workers: int
    staging_dir: str
    bricks_enabled: bool
    match_radius_arcsec: float
    checks: StampChecks
    limits: ReadLimits


def read_limits(section: ParamReader) -> ReadLimits:
    """``max_file_mib`` and ``max_decoded_mib`` of a ``cutouts`` parameter section."""
    return ReadLimits.from_mib(
        section.positive("max_file_mib"), section.positive("max_decoded_mib")
    )


@dataclass(frozen=True)
class IngestConfig:
    """Validated ``params:ingest``."""

    engine: str
    positives: PositivesConfig
    selection: SelectionConfig
    cutouts: CutoutsConfig
    service: CutoutServiceConfig

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> IngestConfig:
        p = ParamReader(params, "ingest")
        pos = p.section("positives")
        c = p.section("cutouts")
        size = c.integer("stamp_size", low=1)
        return cls(
            engine=p.choice("engine", ["pandas", "spark"]),
            positives=PositivesConfig(
                ref_patterns=pos.strings("ref_patterns"),
                name_patterns=pos.strings("name_patterns"),
                tier_of_grading=pos.tiers("tiers"),
                lens_types=pos.strings("lens_types"),
                merge_radius_arcsec=pos.positive("merge_radius_arcsec"),
            ),
            selection=SelectionConfig.from_params(params),
            cutouts=CutoutsConfig(
                stamp_size=size,
                shard_size=c.integer("shard_size", low=1),
                parquet_npz_column=str(c.raw("parquet_npz_column")),
                n_workers=c.integer("n_workers", low=1),
                staging_dir=str(c.raw("staging_dir")),
                bricks_enabled=p.section("bricks").boolean("enabled"),
                match_radius_arcsec=c.positive("match_radius_arcsec"),
                checks=StampChecks(
                    centre_tolerance_arcsec=c.positive("centre_tolerance_arcsec"),
                    pixel_scale=c.positive("pixel_scale"),
                    pixel_scale_tolerance=c.fraction("pixel_scale_tolerance"),
                ),
                limits=read_limits(c),
            ),
            service=CutoutServiceConfig.from_params(
                p.raw("cutout_service"), size, "ingest.cutout_service"
            ),
        )
