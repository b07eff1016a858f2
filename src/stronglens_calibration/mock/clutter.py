"""Neighbours in a stamp from galaxy number counts at DR10 depth and star counts by
Galactic latitude, the same for lenses and non-lenses.

Galaxies: differential r-band counts ``dN/dm = N20 10^(a (m - 20))`` per deg^2 per mag,
with slope ``a_bright`` below ``m_break`` and ``a_faint`` beyond it (the counts flatten
at faint magnitudes), from ``mag_r[0]`` to ``mag_r[1]``; defaults from the SDSS r-band
counts (Yasuda et al. 2001, about 2,800 per deg^2 per mag at r = 20) and deep R-band
counts (Metcalfe et al. 2001, slope about 0.33 beyond r ~ 21). Galaxies fainter than
the detection limit still add light that the noise-correlation measure sees.

Stars: ``N(< star_mag_r[1]) = n_star_pole / sin|b|`` per deg^2, the csc|b| law of a
plane-parallel disc, with magnitudes uniform in ``star_mag_r``.

Companions: LRGs live in groups, so a stamp centred on one holds more galaxies than the
field counts give. A Poisson number of companions (``companions_mean``) at the host's
redshift, fainter than it by ``companion_mag_offset`` and of similar colour, placed with
the projected density of the galaxy correlation function, ``Sigma ~ theta^-0.8``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CountsConfig:
    """``mock_survey.clutter``: number counts (per deg^2 and mag), magnitude ranges (AB)
    and the closest a neighbour comes to the centre (arcsec)."""

    galaxy_mag_r: tuple[float, float]
    galaxy_counts_at_20: float
    slope_bright: float
    slope_faint: float
    mag_break: float
    star_mag_r: tuple[float, float]
    stars_at_pole: float
    min_separation_arcsec: float
    companions_mean: float = 0.0
    companion_mag_offset: tuple[float, float] = (1.0, 3.0)


def _cumulative_galaxies(m: np.ndarray, cfg: CountsConfig) -> np.ndarray:
    """Galaxies per deg^2 brighter than ``m`` (from ``galaxy_mag_r[0]``)."""
    m0 = cfg.galaxy_mag_r[0]

    def integral(a: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        scale = cfg.galaxy_counts_at_20 / (a * np.log(10))
        return scale * (10 ** (a * (hi - 20)) - 10 ** (a * (lo - 20)))

    m = np.asarray(m, float)
    mb = cfg.mag_break
    bright = integral(cfg.slope_bright, np.full_like(m, m0), np.minimum(m, mb))
    bright = np.where(m > m0, bright, 0.0)
    # the faint branch continues the bright one's dN/dm at the break
    joint = 10 ** ((cfg.slope_bright - cfg.slope_faint) * (mb - 20))
    faint = joint * integral(cfg.slope_faint, np.full_like(m, mb), np.maximum(m, mb))
    return bright + np.where(m > mb, faint, 0.0)


def galaxies_per_stamp(area_deg2: float, cfg: CountsConfig) -> float:
    """Expected galaxies in ``galaxy_mag_r`` over ``area_deg2``."""
    return float(_cumulative_galaxies(np.array(cfg.galaxy_mag_r[1]), cfg) * area_deg2)


def stars_per_stamp(area_deg2: float, b_deg: np.ndarray, cfg: CountsConfig) -> np.ndarray:
    """Expected stars in ``star_mag_r`` over ``area_deg2`` at Galactic latitude ``b_deg``."""
    sin_b = np.clip(np.abs(np.sin(np.deg2rad(np.asarray(b_deg, float)))), 0.1, 1.0)
    return cfg.stars_at_pole / sin_b * area_deg2


def draw_galaxy_mags(n: int, cfg: CountsConfig, rng: np.random.Generator) -> np.ndarray:
    """``n`` r magnitudes (AB) following the number counts (inverse CDF on a fine grid)."""
    grid = np.linspace(*cfg.galaxy_mag_r, 2001)
    cdf = _cumulative_galaxies(grid, cfg)
    return np.interp(rng.random(n) * cdf[-1], cdf, grid)


#: Slope of the projected galaxy correlation function, ``w(theta) ~ theta^(1 - gamma)``.
CORRELATION_SLOPE = 0.8


def companion_radii(n: int, r_min: float, r_max: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` projected distances (arcsec) in ``[r_min, r_max]`` with surface density
    ``~ theta^-0.8`` (so ``dN/dtheta ~ theta^0.2``)."""
    if not 0 <= r_min < r_max:
        raise ValueError(f"need 0 <= r_min < r_max, got {r_min}, {r_max}")
    k = 2.0 - CORRELATION_SLOPE
    u = rng.random(n)
    return (r_min**k + u * (r_max**k - r_min**k)) ** (1.0 / k)
