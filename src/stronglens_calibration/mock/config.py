"""Typed, validated parameters of the mock survey (``params:mock_survey``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.mock.clutter import CountsConfig
from stronglens_calibration.mock.hosts import HOST_TYPES, HostConfig
from stronglens_calibration.mock.sources import ClumpyDiscConfig

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
        """Validate ``params:mock_survey``; errors name the offending parameter."""
        p = ParamReader(params, "mock_survey")

        s = p.section("stamp")
        bands = s.bands("bands")
        size = s.integer("size", low=1)
        if size % 2 == 0:
            raise ValueError(f"parameter '{s.path}.size' must be odd, got {size}")
        stamp = StampConfig(
            size=size,
            pixel_scale=s.positive("pixel_scale"),
            bands=bands,
            oversample=s.integer("oversample", low=1),
            arc_oversample=s.integer("arc_oversample", low=1),
            arc_render_size=_odd(s, "arc_render_size_px"),
        )

        k = p.section("sky")
        sky = SkyConfig(
            dec_min_deg=k.number("dec_min_deg", low=-90, high=90),
            dec_max_deg=k.number("dec_max_deg", low=-90, high=90),
            min_abs_galactic_latitude_deg=k.number("min_abs_galactic_latitude_deg", low=0, high=90),
            negative_offset_ra_deg=k.positive("negative_offset_ra_deg"),
            negative_offset_dec_deg=k.positive("negative_offset_dec_deg"),
            min_separation_from_lenscat_arcsec=k.number(
                "min_separation_from_lenscat_arcsec", low=0
            ),
        )
        if sky.dec_min_deg >= sky.dec_max_deg:
            raise ValueError(f"parameter '{k.path}.dec_min_deg' must be below 'dec_max_deg'")

        g = p.section("lens_galaxy")
        rc = g.section("redshift_correlation")
        lens_galaxy = HostConfig(
            luminosity_power=g.number("luminosity_power", low=0),
            redshift_correlation={
                k: rc.number(k, low=-0.95, high=0.95) for k in ("mag_z", "g_minus_r", "r_minus_z")
            },
            r_eff_kpc_median=g.positive("r_eff_kpc_median"),
            r_eff_log10_sigma=g.number("r_eff_log10_sigma", low=0, high=1),
            rex_size_factor=g.positive("rex_size_factor"),
            ser_sersic_n=g.interval("ser_sersic_n", low=0.3, high=10.0),
            axis_ratio=g.interval("axis_ratio", low=0.05, high=1.0),
            type_fractions=_type_fractions(g),
        )
        ls = p.section("lensed_source")
        lensed_source = SourceConfig(
            theta_e_arcsec=ls.interval("theta_e_arcsec", low=1e-3),
            min_theta_e_over_fwhm=ls.number("min_theta_e_over_fwhm", low=0),
            theta_e_luminosity_correlation=ls.number(
                "theta_e_luminosity_correlation", low=0, high=0.99
            ),
            mass_axis_ratio=ls.interval("mass_axis_ratio", low=0.05, high=1.0),
            shear_max=ls.number("shear_max", low=0, high=0.5),
            source_offset_max=ls.number("source_offset_max", low=0, high=5),
            sersic_n=ls.interval("sersic_n", low=0.3, high=10.0),
            r_eff_arcsec=ls.interval("r_eff_arcsec", low=1e-3),
            axis_ratio=ls.interval("axis_ratio", low=0.05, high=1.0),
            lensed_mag_r=ls.interval("lensed_mag_r"),
            g_minus_r=ls.interval("g_minus_r"),
            r_minus_z=ls.interval("r_minus_z"),
            model=ls.choice("model", SOURCE_MODELS),
            clumpy_disc=_clumpy_disc(ls.section("clumpy_disc")),
        )
        ps = p.section("psf")
        psf = PsfConfig(
            fwhm_r_median_arcsec=ps.positive("fwhm_r_median_arcsec"),
            fwhm_r_log_sigma=ps.number("fwhm_r_log_sigma", low=0),
            fwhm_r_range_arcsec=ps.interval("fwhm_r_range_arcsec", low=1e-3),
            g_over_r=ps.positive("g_over_r"),
            z_over_r=ps.positive("z_over_r"),
            moffat_beta=ps.number("moffat_beta", low=1, low_inclusive=False),
        )
        n = p.section("noise")
        noise = NoiseConfig(
            sky_sigma=n.per_band("sky_sigma", bands),
            counts_per_nanomaggy=n.per_band("counts_per_nanomaggy", bands),
            depth_log_sigma=n.number("depth_log_sigma", low=0),
            charge_diffusion_px=n.number("charge_diffusion_px", low=0, high=3),
        )
        c = p.section("clutter")
        clutter = CountsConfig(
            galaxy_mag_r=c.interval("galaxy_mag_r"),
            galaxy_counts_at_20=c.number("galaxy_counts_at_20", low=0),
            slope_bright=c.positive("slope_bright"),
            slope_faint=c.positive("slope_faint"),
            mag_break=c.number("mag_break"),
            star_mag_r=c.interval("star_mag_r"),
            stars_at_pole=c.number("stars_at_pole", low=0),
            min_separation_arcsec=c.number("min_separation_arcsec", low=0),
            companions_mean=c.number("companions_mean", low=0),
            companion_mag_offset=c.interval("companion_mag_offset", low=0),
        )
        cf = p.section("confusers")
        w = cf.section("weights")
        unknown = sorted(set(cf.raw("weights")) - set(CONFUSER_KINDS))
        if unknown:
            raise ValueError(
                f"parameter '{w.path}' has unknown confuser kind(s) {unknown}; "
                f"known: {list(CONFUSER_KINDS)}"
            )
        weights = {
            kind: w.number(kind, low=0) if kind in cf.raw("weights") else 0.0
            for kind in CONFUSER_KINDS
        }
        confuser_fraction = cf.fraction("fraction")
        if confuser_fraction > 0 and sum(weights.values()) <= 0:
            raise ValueError(f"parameter '{w.path}' needs a positive weight")
        fo = p.section("formats")
        npz_cutout, npz_bands = (
            fo.fraction("npz_cutout_fraction"),
            fo.fraction("npz_bands_fraction"),
        )
        parquet_npz = fo.fraction("parquet_npz_fraction")
        if npz_cutout + npz_bands + parquet_npz > 1:
            raise ValueError(f"parameters '{fo.path}.*_fraction' must sum to at most 1")
        d = p.section("defects")
        defects = DefectConfig(
            nan_stamp_rate=d.fraction("nan_stamp_rate"),
            nan_in_core_fraction=d.fraction("nan_in_core_fraction"),
            missing_band_rate=d.fraction("missing_band_rate"),
            truncated_file_rate=d.fraction("truncated_file_rate"),
            duplicated_catalogue_rows=d.integer("duplicated_catalogue_rows"),
        )
        sc = p.section("shortcut")
        shortcut = ShortcutConfig(
            enabled=sc.boolean("enabled"),
            arc_brightness_factor=sc.positive("arc_brightness_factor"),
            core_brightness_factor=sc.positive("core_brightness_factor"),
        )
        eg = p.section("example_grid")
        ph = p.section("photometry")
        cand = p.section("candidates")
        return cls(
            seed=p.integer("seed"),
            n_positives=p.integer("n_positives", low=1),
            tier_a_fraction=p.fraction("tier_a_fraction"),
            negatives_per_positive=p.number("negatives_per_positive", low=0),
            star_rows_fraction=p.fraction("star_rows_fraction"),
            n_workers=p.integer("n_workers", low=1),
            chunk_size=p.integer("chunk_size", low=1),
            tier_of_grading=p.tiers("tiers"),
            ref_patterns=cand.strings("ref_patterns"),
            name_patterns=cand.strings("name_patterns"),
            stamp=stamp,
            sky=sky,
            lens_galaxy=lens_galaxy,
            lensed_source=lensed_source,
            psf=psf,
            noise=noise,
            clutter=clutter,
            confuser_fraction=confuser_fraction,
            confuser_weights=weights,
            nobs_mean=ph.per_band("nobs_mean", bands),
            maskbits_rate=ph.fraction("maskbits_rate"),
            npz_cutout_fraction=npz_cutout,
            npz_bands_fraction=npz_bands,
            parquet_npz_fraction=parquet_npz,
            parquet_rows_per_table=fo.integer("parquet_rows_per_table", low=1),
            defects=defects,
            shortcut=shortcut,
            scan_region=ScanRegionConfig(
                enabled=p.section("scan_region").boolean("enabled"),
                n_galaxies=p.section("scan_region").integer("n_galaxies", low=1),
                lens_rate=p.section("scan_region").fraction("lens_rate"),
                ra_deg=p.section("scan_region").interval("ra_deg", low=0, high=360),
                dec_deg=p.section("scan_region").interval("dec_deg", low=-90, high=90),
            ),
            realism_n_per_class=p.section("realism").integer("n_per_class", low=1),
            example_grid={
                "n_per_class": eg.integer("n_per_class", low=1),
                "lupton_q": eg.positive("lupton_q"),
                "lupton_stretch": eg.positive("lupton_stretch"),
                "crop": eg.integer("crop", low=1),
            },
        )


def _clumpy_disc(c: ParamReader) -> ClumpyDiscConfig:
    lo, hi = c.interval("n_clumps", low=0)
    if lo != int(lo) or hi != int(hi):
        raise ValueError(f"parameter '{c.path}.n_clumps' must be two integers, got {[lo, hi]}")
    return ClumpyDiscConfig(
        n_clumps=(int(lo), int(hi)),
        clump_flux_fraction=c.interval("clump_flux_fraction", low=0, high=1),
        clump_sigma_arcsec=c.interval("clump_sigma_arcsec", low=1e-3),
        inner_flux_fraction=c.interval("inner_flux_fraction", low=0, high=1),
        inner_size_factor=c.positive("inner_size_factor"),
        clump_g_minus_r=c.interval("clump_g_minus_r"),
        clump_r_minus_z=c.interval("clump_r_minus_z"),
        inner_g_minus_r=c.interval("inner_g_minus_r"),
        inner_r_minus_z=c.interval("inner_r_minus_z"),
    )


def _type_fractions(g: ParamReader) -> dict[str, float] | None:
    """``type_fractions``: null (DR10's) or a mapping of Tractor types to weights."""
    raw = g.raw("type_fractions")
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        raise TypeError(
            f"parameter '{g.path}.type_fractions' must be null or a mapping, got {raw!r}"
        )
    unknown = sorted(set(raw) - set(HOST_TYPES))
    if unknown:
        raise ValueError(
            f"parameter '{g.path}.type_fractions' has unknown type(s) {unknown}; "
            f"known: {list(HOST_TYPES)}"
        )
    tf = g.section("type_fractions")
    out = {k: tf.number(k, low=0) for k in raw}
    if sum(out.values()) <= 0:
        raise ValueError(f"parameter '{g.path}.type_fractions' needs a positive weight")
    return out


def _odd(section: ParamReader, key: str) -> int:
    value = section.integer(key, low=1)
    if value % 2 == 0:
        raise ValueError(f"parameter '{section.path}.{key}' must be odd, got {value}")
    return value
