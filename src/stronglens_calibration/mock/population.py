"""Vectorised draws of the mock survey's objects: positions, light, mass, PSF, defects.

The population table (``mock_truth``) holds every random number the renderer needs, so a
stamp is a pure function of its row, the configuration and the seed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.special import ndtr

from stronglens_calibration.catalogues.lenscat import select_candidates
from stronglens_calibration.mock.clutter import galaxies_per_stamp, stars_per_stamp
from stronglens_calibration.mock.config import CONFUSER_KINDS, MockSurveyConfig
from stronglens_calibration.mock.hosts import draw_hosts
from stronglens_calibration.sky.footprint import galactic_latitude, in_footprint
from stronglens_calibration.sky.matching import within_radius

logger = logging.getLogger(__name__)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    return rng.uniform(bounds[0], bounds[1], n)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), n))


def _count(rate: float, n: int) -> int:
    """How many objects get a defect: ``round(rate n)``, at least one when ``rate > 0``."""
    return 0 if rate <= 0 or n == 0 else max(1, round(rate * n))


def _positions_near_positives(
    rng: np.random.Generator,
    n: int,
    pos_ra: np.ndarray,
    pos_dec: np.ndarray,
    lenscat: pd.DataFrame,
    cfg: MockSurveyConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Random positions whose RA and Dec distributions follow the positives'."""
    sky = cfg.sky
    ras, decs = [], []
    have = 0
    for _ in range(100):
        m = max(2 * (n - have), 64)
        parent = rng.integers(0, len(pos_ra), m)
        dec = pos_dec[parent] + rng.uniform(
            -sky.negative_offset_dec_deg, sky.negative_offset_dec_deg, m
        )
        cos_dec = np.clip(np.cos(np.deg2rad(dec)), 0.05, None)
        ra = pos_ra[parent] + rng.uniform(-1, 1, m) * sky.negative_offset_ra_deg / cos_dec
        ra = np.mod(ra, 360.0)
        ok = np.abs(dec) < 89.9
        ok &= in_footprint(
            ra, dec, sky.dec_min_deg, sky.dec_max_deg, sky.min_abs_galactic_latitude_deg
        )
        ok &= ~within_radius(
            ra,
            dec,
            lenscat["RA [deg]"].to_numpy(),
            lenscat["DEC [deg]"].to_numpy(),
            sky.min_separation_from_lenscat_arcsec,
        )
        ras.append(ra[ok])
        decs.append(dec[ok])
        have += int(ok.sum())
        if have >= n:
            break
    else:
        raise RuntimeError("could not place negatives in the footprint; check 'mock_survey.sky'")
    return np.concatenate(ras)[:n], np.concatenate(decs)[:n]


def _draw_attributes(
    table: pd.DataFrame, rng: np.random.Generator, cfg: MockSurveyConfig, zlens: pd.Series
) -> None:
    """Light, mass, PSF, depth, clutter, file format and defect of every row of ``table``
    (``kind``: lens, galaxy or star), drawn in place in a fixed order; ``zlens`` are the
    DESI candidates' lenscat redshifts the hosts are drawn at."""
    n = len(table)
    kind = table["kind"].to_numpy()
    n_gal = int((kind == "galaxy").sum())
    hosts = draw_hosts(n, zlens, cfg.lens_galaxy, rng)
    for column in hosts.columns:
        table[column] = hosts[column].to_numpy()
    table["phi"] = rng.uniform(0, np.pi, n)
    is_star = kind == "star"
    table.loc[is_star, "host_type"] = "PSF"
    table.loc[is_star, "luminosity_rank"] = 0.0
    table.loc[is_star, "z_host"] = 0.0
    star_mag = _uniform(rng, cfg.clutter.star_mag_r, n)
    table.loc[is_star, "mag_r"] = star_mag[is_star]
    table.loc[is_star, "g_minus_r"] = rng.uniform(0.3, 1.4, n)[is_star]
    table.loc[is_star, "r_minus_z"] = rng.uniform(0.0, 0.6, n)[is_star]

    p = cfg.psf
    fwhm = np.exp(np.log(p.fwhm_r_median_arcsec) + p.fwhm_r_log_sigma * rng.standard_normal(n))
    table["fwhm_r"] = np.clip(fwhm, *p.fwhm_r_range_arcsec)
    table["fwhm_g"] = table["fwhm_r"] * p.g_over_r
    table["fwhm_z"] = table["fwhm_r"] * p.z_over_r
    table["depth_factor"] = np.exp(cfg.noise.depth_log_sigma * rng.standard_normal(n))
    for b, mean in zip(cfg.stamp.bands, cfg.nobs_mean, strict=True):
        table[f"nobs_{b}"] = rng.poisson(mean, n).astype(np.int16)
    table["maskbits"] = np.where(rng.random(n) < cfg.maskbits_rate, 2, 0).astype(np.int32)

    s = cfg.lensed_source
    is_lens = kind == "lens"

    def lens_only(values: np.ndarray) -> np.ndarray:
        return np.where(is_lens, values, np.nan)

    # Ground-based searches find lenses whose arcs clear the seeing disc: theta_E is
    # drawn uniformly between max(theta_E,min, k x FWHM_r) and theta_E,max.
    lo = np.maximum(s.theta_e_arcsec[0], s.min_theta_e_over_fwhm * table["fwhm_r"].to_numpy())
    lo = np.minimum(lo, s.theta_e_arcsec[1])
    # Brighter hosts (at their redshift) are more massive and have larger Einstein radii
    # (theta_E ~ sigma^2 ~ L^(1/2) with Faber-Jackson): a Gaussian copula of correlation
    # theta_e_luminosity_correlation ties the draw to the host's luminosity rank.
    rho = s.theta_e_luminosity_correlation
    latent = rho * table["luminosity_rank"].to_numpy() + np.sqrt(1 - rho**2) * rng.standard_normal(
        n
    )
    u = ndtr(latent)
    table["theta_e"] = lens_only(lo + u * (s.theta_e_arcsec[1] - lo))
    table["mass_q"] = lens_only(_uniform(rng, s.mass_axis_ratio, n))
    table["mass_phi"] = lens_only(table["phi"].to_numpy() + rng.normal(0, 0.2, n))
    shear = s.shear_max * np.sqrt(rng.random(n))
    shear_angle = rng.uniform(0, np.pi, n)
    table["gamma1"] = lens_only(shear * np.cos(2 * shear_angle))
    table["gamma2"] = lens_only(shear * np.sin(2 * shear_angle))
    beta = s.source_offset_max * table["theta_e"].to_numpy() * np.sqrt(rng.random(n))
    beta_angle = rng.uniform(0, 2 * np.pi, n)
    table["src_x"] = lens_only(beta * np.cos(beta_angle))
    table["src_y"] = lens_only(beta * np.sin(beta_angle))
    table["src_n"] = lens_only(_uniform(rng, s.sersic_n, n))
    table["src_r_eff"] = lens_only(_log_uniform(rng, s.r_eff_arcsec, n))
    table["src_q"] = lens_only(_uniform(rng, s.axis_ratio, n))
    table["src_phi"] = lens_only(rng.uniform(0, np.pi, n))
    table["lensed_mag_r"] = lens_only(_uniform(rng, s.lensed_mag_r, n))
    table["src_g_minus_r"] = lens_only(_uniform(rng, s.g_minus_r, n))
    table["src_r_minus_z"] = lens_only(_uniform(rng, s.r_minus_z, n))

    if cfg.shortcut.enabled:
        # The earlier project's failure (docs/lessons.md): 9x bright arcs, cores 64 % brighter.
        table.loc[is_lens, "lensed_mag_r"] -= 2.5 * np.log10(cfg.shortcut.arc_brightness_factor)
        table.loc[is_lens, "mag_r"] -= 2.5 * np.log10(cfg.shortcut.core_brightness_factor)

    is_gal = kind == "galaxy"
    weights = np.array([cfg.confuser_weights[k] for k in CONFUSER_KINDS])
    confuser = np.full(n, "", dtype=object)
    n_conf = round(cfg.confuser_fraction * n_gal)
    if n_conf:
        which = rng.choice(np.flatnonzero(is_gal), n_conf, replace=False)
        confuser[which] = rng.choice(CONFUSER_KINDS, n_conf, p=weights / weights.sum())
    table["confuser"] = confuser.astype(str)

    side_deg = cfg.stamp.size * cfg.stamp.pixel_scale / 3600.0
    area = side_deg**2
    b = galactic_latitude(table["ra"].to_numpy(float), table["dec"].to_numpy(float))
    n_gal_mean = galaxies_per_stamp(area, cfg.clutter)
    table["n_neighbours"] = np.where(is_star, 0, rng.poisson(n_gal_mean, n))
    table["n_stars"] = np.where(is_star, 0, rng.poisson(stars_per_stamp(area, b, cfg.clutter)))
    table["n_companions"] = np.where(is_star, 0, rng.poisson(cfg.clutter.companions_mean, n))

    rendered = np.flatnonzero(~is_star)
    u = rng.random(n)
    fmt = np.where(is_star, "", "fits").astype(object)
    fmt[(u < cfg.npz_cutout_fraction) & ~is_star] = "npz_cutout"
    band_lo, band_hi = cfg.npz_cutout_fraction, cfg.npz_cutout_fraction + cfg.npz_bands_fraction
    fmt[(u >= band_lo) & (u < band_hi) & ~is_star] = "npz_bands"
    table_hi = band_hi + cfg.parquet_npz_fraction
    fmt[(u >= band_hi) & (u < table_hi) & ~is_star] = "parquet_npz"
    table["file_format"] = fmt.astype(str)

    d = cfg.defects
    defect = np.full(n, "", dtype=object)
    order = rng.permutation(rendered)
    n_nan = _count(d.nan_stamp_rate, len(rendered))
    n_missing = _count(d.missing_band_rate, len(rendered))
    n_trunc = _count(d.truncated_file_rate, len(rendered))
    nan_rows = order[:n_nan]
    n_core = round(d.nan_in_core_fraction * n_nan)
    defect[nan_rows[:n_core]] = "nan_core"
    defect[nan_rows[n_core:]] = "nan"
    defect[order[n_nan : n_nan + n_missing]] = "missing_band"
    defect[order[n_nan + n_missing : n_nan + n_missing + n_trunc]] = "truncated"
    table["defect"] = defect.astype(str)


def _candidates(lenscat: pd.DataFrame, cfg: MockSurveyConfig) -> pd.DataFrame:
    """lenscat's DESI candidates, one row per name."""
    cands = select_candidates(lenscat, cfg.ref_patterns, cfg.name_patterns)
    return cands.drop_duplicates(subset="name").reset_index(drop=True)


def draw_scan_region(
    lenscat: pd.DataFrame, cfg: MockSurveyConfig, first_render_index: int
) -> pd.DataFrame:
    """The scan region's objects: ordinary galaxies (and confusers) uniform on the sky in
    the region's box, away from every lenscat entry, with ``round(lens_rate x n)`` (at
    least one) of them lenses that no catalogue lists.

    Returns
    -------
    pandas.DataFrame
        The population table's columns, ``region`` ``"scan"``, cutout-service FITS files.
    """
    sr = cfg.scan_region
    rng = np.random.default_rng([cfg.seed, 31])
    n = sr.n_galaxies
    n_lens = max(1, round(sr.lens_rate * n)) if sr.lens_rate > 0 else 0
    sin_lo, sin_hi = np.sin(np.deg2rad(sr.dec_deg[0])), np.sin(np.deg2rad(sr.dec_deg[1]))
    ras, decs, have = [], [], 0
    for _ in range(100):
        m = 2 * (n - have) + 64
        ra = rng.uniform(sr.ra_deg[0], sr.ra_deg[1], m)
        dec = np.rad2deg(np.arcsin(rng.uniform(sin_lo, sin_hi, m)))
        ok = ~within_radius(
            ra,
            dec,
            lenscat["RA [deg]"].to_numpy(float),
            lenscat["DEC [deg]"].to_numpy(float),
            cfg.sky.min_separation_from_lenscat_arcsec,
        )
        ras.append(ra[ok])
        decs.append(dec[ok])
        have += int(ok.sum())
        if have >= n:
            break
    kind = np.array(["galaxy"] * n, dtype=object)
    kind[rng.choice(n, n_lens, replace=False)] = "lens"
    table = pd.DataFrame(
        {
            "kind": kind.astype(str),
            "lenscat_name": "",
            "tier": "",
            "ra": np.concatenate(ras)[:n],
            "dec": np.concatenate(decs)[:n],
        }
    )
    _draw_attributes(table, rng, cfg, _candidates(lenscat, cfg)["zlens"])
    table["file_format"] = "fits"  # what the cutout service returns
    table["render_index"] = np.arange(first_render_index, first_render_index + n, dtype=np.int64)
    table["region"] = "scan"
    logger.info("mock scan region: %d galaxies, %d of them lenses (hidden)", n, n_lens)
    return table


def draw_population(lenscat: pd.DataFrame, cfg: MockSurveyConfig) -> pd.DataFrame:
    """Draw every object of the mock survey.

    Parameters
    ----------
    lenscat : pandas.DataFrame
        The whole lenscat catalogue; positives are drawn from its DESI candidates and
        negatives keep away from all of its entries.
    cfg : MockSurveyConfig
        Validated parameters.

    Returns
    -------
    pandas.DataFrame
        One row per object (``kind`` = ``lens``, ``galaxy`` or ``star``), with positions
        (deg), light (AB mag, arcsec, radians), mass, PSF FWHM (arcsec), photometric
        bookkeeping, file format and defect. Deterministic for ``cfg.seed``.
    """
    rng = np.random.default_rng(cfg.seed)
    cands = _candidates(lenscat, cfg)
    if len(cfg.tier_of_grading) != 2:
        raise ValueError(
            "parameter 'mock_survey.tiers' must name two gradings (the first drawn with "
            f"'tier_a_fraction'), got {cfg.tier_of_grading}"
        )
    grading_a, grading_b = cfg.tier_of_grading
    confident = cands[cands["grading"] == grading_a]
    probable = cands[cands["grading"] == grading_b]
    n_a = round(cfg.n_positives * cfg.tier_a_fraction)
    n_b = cfg.n_positives - n_a
    if n_a > len(confident) or n_b > len(probable):
        raise ValueError(
            f"parameter 'mock_survey.n_positives'={cfg.n_positives} with tier_a_fraction="
            f"{cfg.tier_a_fraction} needs {n_a} {grading_a} and {n_b} {grading_b} candidates; "
            f"lenscat has {len(confident)} and {len(probable)}"
        )
    pick_a = confident.iloc[np.sort(rng.choice(len(confident), n_a, replace=False))]
    pick_b = probable.iloc[np.sort(rng.choice(len(probable), n_b, replace=False))]
    pos = pd.concat([pick_a, pick_b], ignore_index=True)
    pos_ra, pos_dec = pos["RA [deg]"].to_numpy(float), pos["DEC [deg]"].to_numpy(float)

    n_gal = round(cfg.n_positives * cfg.negatives_per_positive)
    n_star = round(n_gal * cfg.star_rows_fraction)
    neg_ra, neg_dec = _positions_near_positives(rng, n_gal + n_star, pos_ra, pos_dec, lenscat, cfg)

    n_pos = len(pos)
    n = n_pos + n_gal + n_star
    kind = np.array(["lens"] * n_pos + ["galaxy"] * n_gal + ["star"] * n_star)
    table = pd.DataFrame(
        {
            "kind": kind,
            "lenscat_name": np.concatenate(
                [pos["name"].astype(str).to_numpy(), [""] * (n - n_pos)]
            ),
            "tier": np.concatenate(
                [pos["grading"].map(cfg.tier_of_grading).to_numpy(), [""] * (n - n_pos)]
            ).astype(str),
            "ra": np.concatenate([pos_ra, neg_ra]),
            "dec": np.concatenate([pos_dec, neg_dec]),
        }
    )

    _draw_attributes(table, rng, cfg, cands["zlens"])
    n_conf = int((table["confuser"] != "").sum())
    n_a = int((table["tier"] == cfg.tier_of_grading[grading_a]).sum())
    table["render_index"] = np.arange(n, dtype=np.int64)
    logger.info(
        "mock population: %d lenses (%d tier A), %d galaxies (%d confusers), %d stars",
        n_pos,
        n_a,
        n_gal,
        n_conf,
        n_star,
    )
    return table
