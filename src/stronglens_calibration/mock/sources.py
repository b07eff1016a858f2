"""The mock survey's true lensed sources: star-forming discs with clumps.

A source is an inner disc (redder), an outer disc (the source colours) and several
compact star-forming clumps (bluer) scattered over the disc, each with its own g, r, z
colours, so the source has colour gradients and structure that a single Sersic profile
lacks. The evaluation's injections use the single Sersic (the parametric model); the
difference is what the injection-realism checks exist to find.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration.lensing.profiles import Gaussian, Sersic
from stronglens_calibration.photometry import band_fluxes

Interval = tuple[float, float]


@dataclass(frozen=True)
class ClumpyDiscConfig:
    """``mock_survey.lensed_source.clumpy_disc``: ranges drawn uniformly per source.

    Attributes
    ----------
    n_clumps : tuple of int
        Fewest and most clumps.
    clump_flux_fraction, inner_flux_fraction : tuple of float
        Shares of the source's r flux in the clumps and in the inner disc.
    clump_sigma_arcsec : tuple of float
        Gaussian sigma of a clump (arcsec, source plane).
    inner_size_factor : float
        Inner disc half-light radius relative to the outer disc's.
    clump_g_minus_r, clump_r_minus_z, inner_g_minus_r, inner_r_minus_z : tuple of float
        Colours (AB) of the clumps and of the inner disc.
    """

    n_clumps: tuple[int, int]
    clump_flux_fraction: Interval
    clump_sigma_arcsec: Interval
    inner_flux_fraction: Interval
    inner_size_factor: float
    clump_g_minus_r: Interval
    clump_r_minus_z: Interval
    inner_g_minus_r: Interval
    inner_r_minus_z: Interval


def _colours(g_minus_r: float, r_minus_z: float) -> np.ndarray:
    """g, r, z fluxes of unit r flux with the given colours."""
    return band_fluxes(22.5, g_minus_r, r_minus_z)


def clumpy_disc_components(
    row: Mapping[str, Any], cfg: ClumpyDiscConfig, rng: np.random.Generator
) -> list[tuple[Any, np.ndarray]]:
    """Source-plane components of one source and their relative g, r, z fluxes.

    Parameters
    ----------
    row : Mapping
        ``src_x``, ``src_y`` (arcsec), ``src_r_eff`` (outer disc, arcsec), ``src_q``,
        ``src_phi`` (rad), ``src_g_minus_r``, ``src_r_minus_z`` (outer disc colours).
    cfg : ClumpyDiscConfig
        Ranges of the structure.
    rng : numpy.random.Generator
        The object's own generator (clump positions, shares, colours).

    Returns
    -------
    list of (profile, numpy.ndarray)
        Unit-flux profiles and their g, r, z fluxes (r fluxes sum to 1).
    """
    x0, y0 = float(row["src_x"]), float(row["src_y"])
    r_eff, q, phi = float(row["src_r_eff"]), float(row["src_q"]), float(row["src_phi"])
    f_clumps = rng.uniform(*cfg.clump_flux_fraction)
    f_inner = rng.uniform(*cfg.inner_flux_fraction) * (1 - f_clumps)
    f_outer = 1.0 - f_clumps - f_inner
    comps: list[tuple[Any, np.ndarray]] = [
        (
            Sersic(1.0, r_eff, 1.0, q, phi, x0, y0),
            _colours(row["src_g_minus_r"], row["src_r_minus_z"]) * f_outer,
        ),
        (
            Sersic(1.0, cfg.inner_size_factor * r_eff, 1.0, q, phi, x0, y0),
            _colours(rng.uniform(*cfg.inner_g_minus_r), rng.uniform(*cfg.inner_r_minus_z))
            * f_inner,
        ),
    ]
    n = int(rng.integers(cfg.n_clumps[0], cfg.n_clumps[1] + 1))
    shares = rng.dirichlet(np.ones(n)) * f_clumps
    # clumps where the disc is: radius from the exponential disc's light (Gamma(2) in
    # units of the scale length r_eff / 1.678), on the inclined disc
    radius = rng.gamma(2.0, r_eff / 1.678, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    u, v = radius * np.cos(angle), radius * q * np.sin(angle)
    cx = x0 + u * np.cos(phi) - v * np.sin(phi)
    cy = y0 + u * np.sin(phi) + v * np.cos(phi)
    for k in range(n):
        colours = _colours(rng.uniform(*cfg.clump_g_minus_r), rng.uniform(*cfg.clump_r_minus_z))
        sigma = rng.uniform(*cfg.clump_sigma_arcsec)
        comps.append((Gaussian(1.0, sigma, x0=float(cx[k]), y0=float(cy[k])), colours * shares[k]))
    return comps
