"""The mock survey's central galaxies: DR10 LRG-like hosts at the redshifts of real DESI
lens candidates, one population for lenses and non-lenses alike.

- Redshifts: lenscat's DESI candidates' ``zlens`` where it is a number (the first number
  of ``'a | b'`` pairs), resampled from those values for the others (hot-deck
  imputation).
- Magnitudes and colours: the percentiles of DR10 LRG-like galaxies
  (:func:`~stronglens_calibration.reference.lrg_photometry`), sampled through a Gaussian
  copula that ties them to the redshift (more distant LRGs are fainter and redder in
  r - z, as the red sequence moves through the filters).
- Lensing selection: a galaxy's chance of being a discovered lens grows with its
  velocity dispersion (cross-section ~ sigma^4 ~ L by the Faber-Jackson relation), so
  the population is resampled with weights ``L ** luminosity_power``; non-lenses that
  resemble lenses come from the same resampled population.
- TYPE from the DR10 LRG TYPE fractions (DEV, SER, REX, EXP, PSF), with the Sersic index
  each type means; half-light radii from a log-normal physical size at the galaxy's
  angular-diameter distance (Planck 2018 cosmology).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stronglens_calibration.reference import lrg_photometry, lrg_type_fractions

#: Percentile levels of the reference table's columns.
_LEVELS = np.array([5.0, 25.0, 50.0, 75.0, 95.0])
#: Tractor types the hosts may have.
HOST_TYPES = ("DEV", "SER", "REX", "EXP", "PSF")
#: Lowest and highest lens redshift taken as a measurement (0 is a placeholder).
_Z_RANGE = (0.05, 1.5)


@dataclass(frozen=True)
class HostConfig:
    """Parameters of the host population (``mock_survey.lens_galaxy``).

    Attributes
    ----------
    luminosity_power : float
        Exponent of the selection weight ``L ** p`` (1: cross-section ~ L).
    redshift_correlation : dict
        Copula correlations of the redshift with ``mag_z``, ``g_minus_r``, ``r_minus_z``.
    r_eff_kpc_median : float
        Median physical half-light radius (kpc) of DEV, SER and EXP hosts.
    r_eff_log10_sigma : float
        Its log-normal scatter (dex).
    rex_size_factor : float
        REX (round, compact) hosts' radius relative to the others'.
    ser_sersic_n : tuple of float
        Range of the Sersic index of SER hosts (log-uniform).
    axis_ratio : tuple of float
        Range of the axis ratio (uniform; REX hosts are round).
    type_fractions : dict or None
        TYPE fractions instead of DR10's (e.g. ``{"DEV": 1.0}``); ``None``: DR10's.
    """

    luminosity_power: float
    redshift_correlation: dict[str, float]
    r_eff_kpc_median: float
    r_eff_log10_sigma: float
    rex_size_factor: float
    ser_sersic_n: tuple[float, float]
    axis_ratio: tuple[float, float]
    type_fractions: dict[str, float] | None = None


def quantiles_to_values(u: np.ndarray, levels_pct: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Inverse CDF through given percentiles: piecewise linear between them, the end
    segments extended linearly to the 0.5th and 99.5th percentiles.

    Parameters
    ----------
    u : numpy.ndarray
        Probabilities in (0, 1).
    levels_pct, values : numpy.ndarray
        Increasing percentile levels (%) and the values there.
    """
    levels = np.asarray(levels_pct, float) / 100.0
    values = np.asarray(values, float)
    lo_slope = (values[1] - values[0]) / (levels[1] - levels[0])
    hi_slope = (values[-1] - values[-2]) / (levels[-1] - levels[-2])
    x = np.concatenate([[0.005], levels, [0.995]])
    y = np.concatenate(
        [
            [values[0] - lo_slope * (levels[0] - 0.005)],
            values,
            [values[-1] + hi_slope * (0.995 - levels[-1])],
        ]
    )
    return np.interp(np.clip(u, 0.005, 0.995), x, y)


def lens_redshifts(zlens: pd.Series, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lens redshifts from lenscat's ``zlens`` strings: the numeric ones (first of
    ``'a | b'``), within 0.05-1.5, resampled with replacement.

    Raises
    ------
    ValueError
        If no ``zlens`` is a usable number.
    """
    first = zlens.astype(str).str.split("|").str[0].str.strip()
    z = pd.to_numeric(first, errors="coerce").to_numpy(float)
    z = z[np.isfinite(z) & (z >= _Z_RANGE[0]) & (z <= _Z_RANGE[1])]
    if z.size == 0:
        raise ValueError("no lenscat candidate has a numeric 'zlens' in 0.05-1.5")
    return rng.choice(np.sort(z), n, replace=True)


def _copula(rng: np.random.Generator, n: int, corr_z: dict[str, float]) -> dict[str, np.ndarray]:
    """Correlated standard normals for ``z`` and the photometry (related only through
    the redshift)."""
    names = ["z", "mag_z", "g_minus_r", "r_minus_z"]
    c = np.eye(4)
    for j, name in enumerate(names[1:], start=1):
        c[0, j] = c[j, 0] = corr_z[name]
    for i in range(1, 4):  # conditionally independent given z
        for j in range(i + 1, 4):
            c[i, j] = c[j, i] = c[0, i] * c[0, j]
    normal = rng.standard_normal((n, 4)) @ np.linalg.cholesky(c).T
    return {name: normal[:, k] for k, name in enumerate(names)}


def angular_size_arcsec(r_kpc: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Angle (arcsec) subtended by a physical length ``r_kpc`` (kpc) at redshift ``z``
    (Planck 2018 angular-diameter distance)."""
    from astropy.cosmology import Planck18

    kpc_per_arcsec = Planck18.kpc_proper_per_arcmin(np.asarray(z, float)).value / 60.0
    return np.asarray(r_kpc, float) / kpc_per_arcsec


def draw_hosts(n: int, zlens: pd.Series, cfg: HostConfig, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` host galaxies.

    Returns
    -------
    pandas.DataFrame
        ``z_host``, ``mag_r`` (AB), ``g_minus_r``, ``r_minus_z``, ``host_type`` (DEV, SER,
        REX, EXP, PSF), ``sersic_n``, ``r_eff`` (arcsec), ``axis_ratio``, and
        ``luminosity_rank``: the host's luminosity at its redshift as a standard normal
        score (0: a typical LRG at that redshift; positive: brighter).
    """
    from scipy.special import ndtr

    phot = lrg_photometry()
    pool = max(8 * n, 256)
    z_pool = np.sort(lens_redshifts(zlens, pool, rng))
    latent = _copula(rng, pool, cfg.redshift_correlation)
    z = z_pool[np.minimum((ndtr(latent["z"]) * pool).astype(int), pool - 1)]

    def values(name: str, normal: np.ndarray) -> np.ndarray:
        return quantiles_to_values(ndtr(normal), _LEVELS, phot.loc[name].to_numpy())

    mag_z = values("mag_z", latent["mag_z"])
    g_r = values("g_minus_r", latent["g_minus_r"])
    r_z = values("r_minus_z", latent["r_minus_z"])
    mag_r = mag_z + r_z
    # the selection acts at fixed redshift (the candidates' redshifts are already those of
    # discovered lenses): weight by luminosity relative to a typical LRG at the same z
    typical_z_mag = values("mag_z", cfg.redshift_correlation["mag_z"] * latent["z"])
    relative = mag_z - typical_z_mag
    weight = 10.0 ** (-0.4 * cfg.luminosity_power * (relative - relative.min()))
    pick = rng.choice(pool, n, replace=False, p=weight / weight.sum())
    fractions = lrg_type_fractions()
    if cfg.type_fractions is not None:
        fractions = pd.Series(cfg.type_fractions, dtype=float)
        fractions = fractions / fractions.sum()
    types = rng.choice(fractions.index.to_numpy(), n, p=fractions.to_numpy())
    sersic = np.where(types == "DEV", 4.0, 1.0)
    ser = types == "SER"
    lo, hi = np.log(cfg.ser_sersic_n[0]), np.log(cfg.ser_sersic_n[1])
    sersic[ser] = np.exp(rng.uniform(lo, hi, n))[ser]
    r_kpc = cfg.r_eff_kpc_median * 10.0 ** (cfg.r_eff_log10_sigma * rng.standard_normal(n))
    r_eff = angular_size_arcsec(r_kpc, z[pick])
    r_eff = np.where(types == "REX", cfg.rex_size_factor * r_eff, r_eff)
    r_eff = np.where(types == "PSF", 0.05, r_eff)  # unresolved: a point source to Tractor
    q = rng.uniform(*cfg.axis_ratio, n)
    q = np.where(np.isin(types, ["REX", "PSF"]), 1.0, q)
    return pd.DataFrame(
        {
            "z_host": z[pick],
            "mag_r": mag_r[pick],
            "g_minus_r": g_r[pick],
            "r_minus_z": r_z[pick],
            "host_type": types.astype(str),
            "sersic_n": sersic,
            "r_eff": r_eff,
            "axis_ratio": q,
            "luminosity_rank": _standard_scores(-relative[pick]),
        }
    )


def _standard_scores(values: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks of ``values`` (ties broken by order)."""
    from scipy.special import ndtri

    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return ndtri((ranks + 0.5) / len(values))
