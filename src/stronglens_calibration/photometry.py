"""AB magnitudes and nanomaggies, the flux unit of the Legacy Surveys."""

from __future__ import annotations

import numpy as np

#: AB zero point of nanomaggies: m = 22.5 - 2.5 log10(flux / nanomaggy).
NANOMAGGY_ZEROPOINT: float = 22.5


def mag_to_nanomaggies(mag: np.ndarray | float) -> np.ndarray:
    """Flux in nanomaggies of an AB magnitude: ``10 ** ((22.5 - mag) / 2.5)``."""
    return np.power(10.0, (NANOMAGGY_ZEROPOINT - np.asarray(mag, dtype=np.float64)) / 2.5)


def nanomaggies_to_mag(flux: np.ndarray | float) -> np.ndarray:
    """AB magnitude of a flux in nanomaggies; NaN for non-positive flux."""
    flux = np.asarray(flux, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = NANOMAGGY_ZEROPOINT - 2.5 * np.log10(flux)
    return np.where(flux > 0, mag, np.nan)


def band_fluxes(mag_r: np.ndarray, g_minus_r: np.ndarray, r_minus_z: np.ndarray) -> np.ndarray:
    """Fluxes in nanomaggies, shape ``(N, 3)`` in band order g, r, z, from r and colours."""
    mag_r = np.asarray(mag_r, dtype=np.float64)
    mags = np.stack([mag_r + g_minus_r, mag_r, mag_r - r_minus_z], axis=-1)
    return mag_to_nanomaggies(mags)
