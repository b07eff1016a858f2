"""Typed, validated parameters of the mock survey (``params:mock_survey``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, Strict, field_validator, model_validator

from stronglens_calibration import BANDS
from stronglens_calibration.mock.clutter import CountsConfig
from stronglens_calibration.mock.hosts import HOST_TYPES, HostConfig
from stronglens_calibration.mock.sources import ClumpyDiscConfig
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

CONFUSER_KINDS: tuple[str, ...] = ("spiral", "ring", "edge_on", "blue_clumpy", "merger")
#: The mock's true lensed sources: discs with clumps, or the injections' single Sersic.
SOURCE_MODELS: tuple[str, ...] = ("clumpy_disc", "sersic")

Interval = tuple[float, float]


@dataclass(frozen=True)
class StampConfig:
    size: int
    pixel_scale: float
    bands: tuple[str, ...]
    oversample: int
    arc_oversample: int
    arc_render_size: int


@dataclass(frozen=True)
class SkyConfig:
    dec_min_deg: float
    dec_max_deg: float
    min_abs_galactic_latitude_deg: float
    negative_offset_ra_deg: float
    negative_offset_dec_deg: float
    min_separation_from_lenscat_arcsec: float


@dataclass(frozen=True)
class SourceConfig:
    theta_e_arcsec: Interval
    min_theta_e_over_fwhm: float
    theta_e_luminosity_correlation: float
    mass_axis_ratio: Interval
    shear_max: float
    source_offset_max: float
    sersic_n: Interval
    r_eff_arcsec: Interval
    axis_ratio: Interval
    lensed_mag_r: Interval
    g_minus_r: Interval
    r_minus_z: Interval
    model: str  # "clumpy_disc" or "sersic" (the injections' parametric model)
    clumpy_disc: ClumpyDiscConfig


@dataclass(frozen=True)
class PsfConfig:
    fwhm_r_median_arcsec: float
    fwhm_r_log_sigma: float
    fwhm_r_range_arcsec: Interval
    g_over_r: float
    z_over_r: float
    moffat_beta: float


@dataclass(frozen=True)
class NoiseConfig:
    sky_sigma: np.ndarray  # (B,) nanomaggies per pixel
    counts_per_nanomaggy: np.ndarray  # (B,)
    depth_log_sigma: float
    charge_diffusion_px: float  # Gaussian sigma of the native-pixel noise correlation


@dataclass(frozen=True)
class DefectConfig:
    nan_stamp_rate: float
    nan_in_core_fraction: float
    missing_band_rate: float
    truncated_file_rate: float
    duplicated_catalogue_rows: int


@dataclass(frozen=True)
class ShortcutConfig:
    enabled: bool
    arc_brightness_factor: float
    core_brightness_factor: float


@dataclass(frozen=True)
class ScanRegionConfig:
    """A region for the ``scan`` pipeline: ordinary galaxies with lenses hidden among
    them at ``lens_rate`` (their truth only in ``mock_truth``), in a box of RA and Dec
    (deg)."""

    enabled: bool
    n_galaxies: int
    lens_rate: float
    ra_deg: Interval
    dec_deg: Interval


@dataclass(frozen=True)
class MockSurveyConfig:
    """All parameters of the mock survey, validated. Build with :meth:`from_params`."""

    seed: int
    n_positives: int
    tier_a_fraction: float
    negatives_per_positive: float
    star_rows_fraction: float
    n_workers: int
    chunk_size: int
    tier_of_grading: dict[str, str]
    ref_patterns: tuple[str, ...]
    name_patterns: tuple[str, ...]
    stamp: StampConfig
    sky: SkyConfig
    lens_galaxy: HostConfig
    lensed_source: SourceConfig
    psf: PsfConfig
    noise: NoiseConfig
    clutter: CountsConfig
    confuser_fraction: float
    confuser_weights: dict[str, float]
    nobs_mean: np.ndarray
    maskbits_rate: float
    npz_cutout_fraction: float
    npz_bands_fraction: float
    parquet_npz_fraction: float
    parquet_rows_per_table: int
    defects: DefectConfig
    shortcut: ShortcutConfig
    example_grid: dict[str, float]
    scan_region: ScanRegionConfig
    realism_n_per_class: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MockSurveyConfig:
        """Validate ``params:mock_survey`` (:class:`MockSurveyParameters`); errors name
        the offending parameter."""
        return MockSurveyParameters.parse(params, "mock_survey").config()


Band = Literal["g", "r", "z"]
Declination = Annotated[float, Strict(), Field(ge=-90, le=90)]
#: A number per band (the bands of ``stamp.bands``).
PerBand = dict[Band, PositiveFloat]


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"must be odd, got {value}")
    return value


OddSize = Annotated[int, Strict(), Field(ge=1), AfterValidator(_odd)]


class Candidates(Section):
    """Which lenscat entries are DESI lens-search candidates (positions of the lenses)."""

    ref_patterns: tuple[Str, ...]
    name_patterns: tuple[Str, ...]


class Stamp(Section):
    """Stamp side (odd, pixels), pixel scale (arcsec), bands, sub-sampling of galaxies
    and of arcs, and the side of the region arcs are rendered in (odd, pixels)."""

    size: OddSize
    pixel_scale: PositiveFloat
    bands: tuple[Band, ...]
    oversample: PositiveInt
    arc_oversample: PositiveInt
    arc_render_size_px: OddSize

    @field_validator("bands")
    @classmethod
    def _band_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError(f"must list distinct bands, got {list(value)}")
        if tuple(value) != tuple(b for b in BANDS if b in value):
            raise ValueError(f"must follow the band order {list(BANDS)}, got {list(value)}")
        return value


class Sky(Section):
    """Where objects are placed (deg, arcsec)."""

    dec_min_deg: Declination
    dec_max_deg: Declination
    min_abs_galactic_latitude_deg: Annotated[float, Strict(), Field(ge=0, le=90)]
    negative_offset_ra_deg: PositiveFloat
    negative_offset_dec_deg: PositiveFloat
    min_separation_from_lenscat_arcsec: NonNegativeFloat

    @model_validator(mode="after")
    def _dec_range(self) -> Sky:
        if self.dec_min_deg >= self.dec_max_deg:
            raise ValueError("parameter 'mock_survey.sky.dec_min_deg' must be below 'dec_max_deg'")
        return self


Correlation = Annotated[float, Strict(), Field(ge=-0.95, le=0.95)]


class RedshiftCorrelation(Section):
    """Copula correlations of the hosts' redshift with z magnitude and colours."""

    mag_z: Correlation
    g_minus_r: Correlation
    r_minus_z: Correlation


class LensGalaxy(Section):
    """The one host population of lenses and non-lenses (:class:`~.hosts.HostConfig`)."""

    luminosity_power: NonNegativeFloat
    redshift_correlation: RedshiftCorrelation
    r_eff_kpc_median: PositiveFloat
    r_eff_log10_sigma: Annotated[float, Strict(), Field(ge=0, le=1)]
    rex_size_factor: PositiveFloat
    ser_sersic_n: bounded_range(0.3, 10.0)
    axis_ratio: bounded_range(0.05, 1.0)
    type_fractions: dict[Literal[HOST_TYPES], NonNegativeFloat] | None  # type: ignore[valid-type]

    @field_validator("type_fractions")
    @classmethod
    def _some_weight(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and sum(value.values()) <= 0:
            raise ValueError("needs a positive weight (or null: DR10's fractions)")
        return value


class ClumpyDisc(Section):
    """The mock's true lensed sources (:class:`~.sources.ClumpyDiscConfig`)."""

    n_clumps: tuple[NonNegativeInt, NonNegativeInt]
    clump_flux_fraction: bounded_range(0.0, 1.0)
    clump_sigma_arcsec: bounded_range(1e-3)
    clump_g_minus_r: Range
    clump_r_minus_z: Range
    inner_flux_fraction: bounded_range(0.0, 1.0)
    inner_size_factor: PositiveFloat
    inner_g_minus_r: Range
    inner_r_minus_z: Range

    @field_validator("n_clumps")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] > value[1]:
            raise ValueError(f"must have min <= max, got {list(value)}")
        return value


class LensedSource(Section):
    """The mock's lenses: Einstein radii (arcsec), mass model, lensed sources."""

    model: Literal[SOURCE_MODELS]  # type: ignore[valid-type]
    theta_e_arcsec: bounded_range(1e-3)
    min_theta_e_over_fwhm: NonNegativeFloat
    theta_e_luminosity_correlation: Annotated[float, Strict(), Field(ge=0, le=0.99)]
    mass_axis_ratio: bounded_range(0.05, 1.0)
    shear_max: Annotated[float, Strict(), Field(ge=0, le=0.5)]
    source_offset_max: Annotated[float, Strict(), Field(ge=0, le=5)]
    sersic_n: bounded_range(0.3, 10.0)
    r_eff_arcsec: bounded_range(1e-3)
    axis_ratio: bounded_range(0.05, 1.0)
    lensed_mag_r: Range
    g_minus_r: Range
    r_minus_z: Range
    clumpy_disc: ClumpyDisc


class Psf(Section):
    """Seeing (r FWHM in arcsec, log-normal, clipped), g and z relative to r, Moffat beta."""

    fwhm_r_median_arcsec: PositiveFloat
    fwhm_r_log_sigma: NonNegativeFloat
    fwhm_r_range_arcsec: bounded_range(1e-3)
    g_over_r: PositiveFloat
    z_over_r: PositiveFloat
    moffat_beta: Annotated[float, Strict(), Field(gt=1)]


class Noise(Section):
    """Sky noise per band (nanomaggies per pixel), counts per nanomaggy, depth scatter
    (ln) and the native-pixel correlation (pixels)."""

    sky_sigma: PerBand
    counts_per_nanomaggy: PerBand
    depth_log_sigma: NonNegativeFloat
    charge_diffusion_px: Annotated[float, Strict(), Field(ge=0, le=3)]


class Clutter(Section):
    """Neighbours from number counts (:class:`~.clutter.CountsConfig`)."""

    galaxy_mag_r: Range
    galaxy_counts_at_20: NonNegativeFloat
    slope_bright: PositiveFloat
    slope_faint: PositiveFloat
    mag_break: Float
    star_mag_r: Range
    stars_at_pole: NonNegativeFloat
    min_separation_arcsec: NonNegativeFloat
    companions_mean: NonNegativeFloat
    companion_mag_offset: bounded_range(0.0)


class Confusers(Section):
    """The share of negatives that are confusers, and the weight of each kind."""

    fraction: Fraction
    weights: dict[Literal[CONFUSER_KINDS], NonNegativeFloat]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _some_weight(self) -> Confusers:
        if self.fraction > 0 and sum(self.weights.values()) <= 0:
            raise ValueError("parameter 'mock_survey.confusers.weights' needs a positive weight")
        return self


class Photometry(Section):
    """Mean exposures per band and the share of objects with a MASKBITS flag."""

    nobs_mean: PerBand
    maskbits_rate: Fraction


class Formats(Section):
    """Shares of cutouts written as NPZ (two layouts) and as NPZ in parquet tables."""

    npz_cutout_fraction: Fraction
    npz_bands_fraction: Fraction
    parquet_npz_fraction: Fraction
    parquet_rows_per_table: PositiveInt

    @model_validator(mode="after")
    def _at_most_one(self) -> Formats:
        if self.npz_cutout_fraction + self.npz_bands_fraction + self.parquet_npz_fraction > 1:
            raise ValueError("parameters 'mock_survey.formats.*_fraction' must sum to at most 1")
        return self


class Defects(Section):
    """Rates of the defects real inputs have."""

    nan_stamp_rate: Fraction
    nan_in_core_fraction: Fraction
    missing_band_rate: Fraction
    truncated_file_rate: Fraction
    duplicated_catalogue_rows: NonNegativeInt


class Shortcut(Section):
    """The earlier project's failure, reproduced when enabled."""

    enabled: Bool
    arc_brightness_factor: PositiveFloat
    core_brightness_factor: PositiveFloat


class ScanRegion(Section):
    """The scan region (:class:`ScanRegionConfig`)."""

    enabled: Bool
    n_galaxies: PositiveInt
    lens_rate: Fraction
    ra_deg: bounded_range(0.0, 360.0)
    dec_deg: bounded_range(-90.0, 90.0)


class Realism(Section):
    """Lenses (and as many non-lenses) measured as real DR10 candidates were."""

    n_per_class: PositiveInt


class ExampleGrid(Section):
    """The examples figure: stamps per class and their display."""

    n_per_class: PositiveInt
    lupton_q: PositiveFloat
    lupton_stretch: PositiveFloat
    crop: PositiveInt


class MockSurveyParameters(Section):
    """``params:mock_survey``; :meth:`config` builds what the mock library takes."""

    seed: Int
    n_positives: PositiveInt
    tiers: Tiers
    tier_a_fraction: Fraction
    negatives_per_positive: NonNegativeFloat
    star_rows_fraction: Fraction
    n_workers: PositiveInt
    chunk_size: PositiveInt
    candidates: Candidates
    stamp: Stamp
    sky: Sky
    lens_galaxy: LensGalaxy
    lensed_source: LensedSource
    psf: Psf
    noise: Noise
    clutter: Clutter
    confusers: Confusers
    photometry: Photometry
    formats: Formats
    defects: Defects
    shortcut: Shortcut
    scan_region: ScanRegion
    realism: Realism
    example_grid: ExampleGrid

    @model_validator(mode="after")
    def _every_band(self) -> MockSurveyParameters:
        for where, values in (
            ("noise.sky_sigma", self.noise.sky_sigma),
            ("noise.counts_per_nanomaggy", self.noise.counts_per_nanomaggy),
            ("photometry.nobs_mean", self.photometry.nobs_mean),
        ):
            missing = [b for b in self.stamp.bands if b not in values]
            if missing:
                raise ValueError(f"parameter 'mock_survey.{where}' lacks band(s) {missing}")
        return self

    def config(self) -> MockSurveyConfig:
        """What the mock library takes."""
        bands = tuple(self.stamp.bands)

        def per_band(values: Mapping[str, float]) -> np.ndarray:
            return np.array([values[b] for b in bands], dtype=np.float64)

        def pair(v: tuple[float, float]) -> Interval:
            return float(v[0]), float(v[1])

        st, k, g, ls = self.stamp, self.sky, self.lens_galaxy, self.lensed_source
        cd = ls.clumpy_disc
        ps, n, c, d = self.psf, self.noise, self.clutter, self.defects
        return MockSurveyConfig(
            seed=self.seed,
            n_positives=self.n_positives,
            tier_a_fraction=float(self.tier_a_fraction),
            negatives_per_positive=float(self.negatives_per_positive),
            star_rows_fraction=float(self.star_rows_fraction),
            n_workers=self.n_workers,
            chunk_size=self.chunk_size,
            tier_of_grading=dict(self.tiers),
            ref_patterns=tuple(self.candidates.ref_patterns),
            name_patterns=tuple(self.candidates.name_patterns),
            stamp=StampConfig(
                size=st.size,
                pixel_scale=float(st.pixel_scale),
                bands=bands,
                oversample=st.oversample,
                arc_oversample=st.arc_oversample,
                arc_render_size=st.arc_render_size_px,
            ),
            sky=SkyConfig(
                dec_min_deg=float(k.dec_min_deg),
                dec_max_deg=float(k.dec_max_deg),
                min_abs_galactic_latitude_deg=float(k.min_abs_galactic_latitude_deg),
                negative_offset_ra_deg=float(k.negative_offset_ra_deg),
                negative_offset_dec_deg=float(k.negative_offset_dec_deg),
                min_separation_from_lenscat_arcsec=float(k.min_separation_from_lenscat_arcsec),
            ),
            lens_galaxy=HostConfig(
                luminosity_power=float(g.luminosity_power),
                redshift_correlation={
                    key: float(v) for key, v in g.redshift_correlation.model_dump().items()
                },
                r_eff_kpc_median=float(g.r_eff_kpc_median),
                r_eff_log10_sigma=float(g.r_eff_log10_sigma),
                rex_size_factor=float(g.rex_size_factor),
                ser_sersic_n=pair(g.ser_sersic_n),
                axis_ratio=pair(g.axis_ratio),
                type_fractions=(
                    None
                    if g.type_fractions is None
                    else {key: float(v) for key, v in g.type_fractions.items()}
                ),
            ),
            lensed_source=SourceConfig(
                theta_e_arcsec=pair(ls.theta_e_arcsec),
                min_theta_e_over_fwhm=float(ls.min_theta_e_over_fwhm),
                theta_e_luminosity_correlation=float(ls.theta_e_luminosity_correlation),
                mass_axis_ratio=pair(ls.mass_axis_ratio),
                shear_max=float(ls.shear_max),
                source_offset_max=float(ls.source_offset_max),
                sersic_n=pair(ls.sersic_n),
                r_eff_arcsec=pair(ls.r_eff_arcsec),
                axis_ratio=pair(ls.axis_ratio),
                lensed_mag_r=pair(ls.lensed_mag_r),
                g_minus_r=pair(ls.g_minus_r),
                r_minus_z=pair(ls.r_minus_z),
                model=ls.model,
                clumpy_disc=ClumpyDiscConfig(
                    n_clumps=(int(cd.n_clumps[0]), int(cd.n_clumps[1])),
                    clump_flux_fraction=pair(cd.clump_flux_fraction),
                    clump_sigma_arcsec=pair(cd.clump_sigma_arcsec),
                    inner_flux_fraction=pair(cd.inner_flux_fraction),
                    inner_size_factor=float(cd.inner_size_factor),
                    clump_g_minus_r=pair(cd.clump_g_minus_r),
                    clump_r_minus_z=pair(cd.clump_r_minus_z),
                    inner_g_minus_r=pair(cd.inner_g_minus_r),
                    inner_r_minus_z=pair(cd.inner_r_minus_z),
                ),
            ),
            psf=PsfConfig(
                fwhm_r_median_arcsec=float(ps.fwhm_r_median_arcsec),
                fwhm_r_log_sigma=float(ps.fwhm_r_log_sigma),
                fwhm_r_range_arcsec=pair(ps.fwhm_r_range_arcsec),
                g_over_r=float(ps.g_over_r),
                z_over_r=float(ps.z_over_r),
                moffat_beta=float(ps.moffat_beta),
            ),
            noise=NoiseConfig(
                sky_sigma=per_band(n.sky_sigma),
                counts_per_nanomaggy=per_band(n.counts_per_nanomaggy),
                depth_log_sigma=float(n.depth_log_sigma),
                charge_diffusion_px=float(n.charge_diffusion_px),
            ),
            clutter=CountsConfig(
                galaxy_mag_r=pair(c.galaxy_mag_r),
                galaxy_counts_at_20=float(c.galaxy_counts_at_20),
                slope_bright=float(c.slope_bright),
                slope_faint=float(c.slope_faint),
                mag_break=float(c.mag_break),
                star_mag_r=pair(c.star_mag_r),
                stars_at_pole=float(c.stars_at_pole),
                min_separation_arcsec=float(c.min_separation_arcsec),
                companions_mean=float(c.companions_mean),
                companion_mag_offset=pair(c.companion_mag_offset),
            ),
            confuser_fraction=float(self.confusers.fraction),
            confuser_weights={
                kind: float(self.confusers.weights.get(kind, 0.0)) for kind in CONFUSER_KINDS
            },
            nobs_mean=per_band(self.photometry.nobs_mean),
            maskbits_rate=float(self.photometry.maskbits_rate),
            npz_cutout_fraction=float(self.formats.npz_cutout_fraction),
            npz_bands_fraction=float(self.formats.npz_bands_fraction),
            parquet_npz_fraction=float(self.formats.parquet_npz_fraction),
            parquet_rows_per_table=self.formats.parquet_rows_per_table,
            defects=DefectConfig(
                nan_stamp_rate=float(d.nan_stamp_rate),
                nan_in_core_fraction=float(d.nan_in_core_fraction),
                missing_band_rate=float(d.missing_band_rate),
                truncated_file_rate=float(d.truncated_file_rate),
                duplicated_catalogue_rows=d.duplicated_catalogue_rows,
            ),
            shortcut=ShortcutConfig(
                enabled=self.shortcut.enabled,
                arc_brightness_factor=float(self.shortcut.arc_brightness_factor),
                core_brightness_factor=float(self.shortcut.core_brightness_factor),
            ),
            example_grid={
                "n_per_class": self.example_grid.n_per_class,
                "lupton_q": float(self.example_grid.lupton_q),
                "lupton_stretch": float(self.example_grid.lupton_stretch),
                "crop": self.example_grid.crop,
            },
            scan_region=ScanRegionConfig(
                enabled=self.scan_region.enabled,
                n_galaxies=self.scan_region.n_galaxies,
                lens_rate=float(self.scan_region.lens_rate),
                ra_deg=pair(self.scan_region.ra_deg),
                dec_deg=pair(self.scan_region.dec_deg),
            ),
            realism_n_per_class=self.realism.n_per_class,
        )
