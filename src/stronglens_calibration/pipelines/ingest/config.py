"""The ``ingest`` pipeline's parameters: one typed schema of ``params:ingest``; the
selection library and the cutout readers take what :class:`IngestConfig` builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, field_validator

from stronglens_calibration.catalogues.selection import SelectionConfig
from stronglens_calibration.catalogues.sweeps import Cuts, HardConfuserRules
from stronglens_calibration.parameter_schema import (
    Bool,
    Float,
    Fraction,
    Int,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Range,
    Section,
    Str,
    Tiers,
    bounded_range,
)
from stronglens_calibration.stamps.cutout_service import CutoutService, CutoutServiceConfig
from stronglens_calibration.stamps.store import ReadLimits, StampChecks

#: Tractor morphological types.
TractorType = Literal["PSF", "REX", "DEV", "EXP", "SER", "DUP"]
#: A declination in degrees.
Declination = Annotated[float, Strict(), Field(ge=-90, le=90)]


class Positives(Section):
    """Which lenscat rows are lens candidates, their tiers, how duplicates merge
    (arcsec), and where their photometry and stamp centres come from."""

    ref_patterns: tuple[Str, ...]
    name_patterns: tuple[Str, ...]
    tiers: Tiers
    lens_types: tuple[Str, ...]
    merge_radius_arcsec: PositiveFloat
    photometry_match_radius_arcsec: PositiveFloat
    centre_on: Literal["tractor", "lenscat"]


class North(Section):
    """DR9 BASS/MzLS imaging in the north: quarantined (``exclude``) or its own sampling
    stratum (``stratum``)."""

    policy: Literal["exclude", "stratum"]


class MinNobs(Section):
    """Fewest exposures per band."""

    g: NonNegativeInt
    r: NonNegativeInt
    z: NonNegativeInt


class CutsSection(Section):
    """The cuts, the same for negatives and (where photometry is known) positives."""

    types: tuple[TractorType, ...]
    reject_maskbits: tuple[Annotated[int, Strict(), Field(ge=0, le=63)], ...]
    min_nobs: MinNobs
    mag_z: Range
    dec_deg: bounded_range(-90.0, 90.0)
    apply_to_positives: Bool


class HardConfusers(Section):
    """What makes a non-lens a hard confuser (Sersic index, axis ratio, g - r colour,
    half-light radius in arcsec)."""

    ring_max_sersic: PositiveFloat
    edge_on_max_axis_ratio: Fraction
    blue_max_g_minus_r: Float
    large_min_shape_r_arcsec: PositiveFloat


class Sampling(Section):
    """How negatives are sampled: per positive, by stratum, with a share of confusers."""

    negatives_per_positive: NonNegativeFloat
    nobs_z_bin_edges: tuple[Int, ...]
    hard_confuser_fraction: Fraction
    duplicate_radius_arcsec: NonNegativeFloat
    max_negative_shortfall: Fraction
    hard_confusers: HardConfusers

    @field_validator("nobs_z_bin_edges")
    @classmethod
    def _increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) < 2 or sorted(value) != list(value):
            raise ValueError(
                f"parameter 'ingest.sampling.nobs_z_bin_edges' must be an increasing list, "
                f"got {list(value)}"
            )
        return value


class CutoutFiles(Section):
    """How a cutout file is matched to its object and checked: match radius and centre
    tolerance (arcsec), pixel scale (arcsec / pixel) and its relative tolerance, largest
    file and decoded content (MiB)."""

    match_radius_arcsec: PositiveFloat
    centre_tolerance_arcsec: PositiveFloat
    pixel_scale: PositiveFloat
    pixel_scale_tolerance: Fraction
    max_file_mib: PositiveFloat
    max_decoded_mib: PositiveFloat

    @property
    def checks(self) -> StampChecks:
        """What each file's header must agree with."""
        return StampChecks(
            centre_tolerance_arcsec=float(self.centre_tolerance_arcsec),
            pixel_scale=float(self.pixel_scale),
            pixel_scale_tolerance=float(self.pixel_scale_tolerance),
        )

    @property
    def limits(self) -> ReadLimits:
        """Largest cutout file and decoded content (larger ones are quarantined)."""
        return ReadLimits.from_mib(self.max_file_mib, self.max_decoded_mib)


class Cutouts(CutoutFiles):
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
    """

    stamp_size: PositiveInt
    shard_size: PositiveInt
    parquet_npz_column: Str
    n_workers: PositiveInt
    staging_dir: Str


class Bricks(Section):
    """Cut objects without a cutout file from coadd bricks."""

    enabled: Bool


class IngestConfig(Section):
    """``params:ingest``; :attr:`selection` and :attr:`service` are what the selection
    and the cutout service take."""

    seed: Int
    limit: PositiveInt | None
    sweep_chunk_rows: PositiveInt
    engine: Literal["pandas", "spark"]
    exclusion_radius_arcsec: NonNegativeFloat
    positives: Positives
    north: North
    cuts: CutsSection
    sampling: Sampling
    cutouts: Cutouts
    bricks: Bricks
    cutout_service: CutoutService

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> IngestConfig:
        """Validate ``params:ingest``."""
        return cls.parse(params, "ingest")

    @property
    def service(self) -> CutoutServiceConfig:
        """The Legacy Surveys cutout service, for objects without a file."""
        return self.cutout_service.config(self.cutouts.stamp_size)

    @property
    def selection(self) -> SelectionConfig:
        """What the sweep pass selects and samples."""
        c, s = self.cuts, self.sampling
        h = s.hard_confusers
        return SelectionConfig(
            seed=self.seed,
            limit=self.limit,
            cuts=Cuts(
                types=tuple(c.types),
                reject_maskbits=tuple(c.reject_maskbits),
                min_nobs=c.min_nobs.model_dump(),
                mag_z=(float(c.mag_z[0]), float(c.mag_z[1])),
                dec_deg=(float(c.dec_deg[0]), float(c.dec_deg[1])),
                photsys=("S",) if self.north.policy == "exclude" else ("S", "N"),
            ),
            apply_cuts_to_positives=c.apply_to_positives,
            exclusion_radius_arcsec=float(self.exclusion_radius_arcsec),
            photometry_match_radius_arcsec=float(self.positives.photometry_match_radius_arcsec),
            negatives_per_positive=float(s.negatives_per_positive),
            nobs_z_edges=tuple(int(e) for e in s.nobs_z_bin_edges),
            hard_confuser_fraction=float(s.hard_confuser_fraction),
            hard_rules=HardConfuserRules(
                ring_max_sersic=float(h.ring_max_sersic),
                edge_on_max_axis_ratio=float(h.edge_on_max_axis_ratio),
                blue_max_g_minus_r=float(h.blue_max_g_minus_r),
                large_min_shape_r=float(h.large_min_shape_r_arcsec),
            ),
            chunk_rows=self.sweep_chunk_rows,
            north_policy=self.north.policy,
            centre_on_tractor=self.positives.centre_on == "tractor",
            duplicate_radius_arcsec=float(s.duplicate_radius_arcsec),
            max_negative_shortfall=float(s.max_negative_shortfall),
        )
