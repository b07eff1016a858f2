"""HEALPix pixels and region-disjoint splits keyed by pixel."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np


def healpix_nested(ra_deg: np.ndarray, dec_deg: np.ndarray, nside: int) -> np.ndarray:
    """NESTED HEALPix pixel of each position (healpy; no fallback that is not spatial).

    Parameters
    ----------
    ra_deg, dec_deg : numpy.ndarray
        ICRS positions in degrees, finite, ``0 <= ra < 360``, ``|dec| <= 90``.
    nside : int
        HEALPix resolution, a power of two.

    Returns
    -------
    numpy.ndarray
        int64 pixel indices.
    """
    import healpy

    if nside < 1 or nside & (nside - 1):
        raise ValueError(f"'nside' must be a power of two, got {nside}")
    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    return healpy.ang2pix(nside, ra, dec, nest=True, lonlat=True).astype(np.int64)


def pixel_uniform(pixels: np.ndarray, nside: int, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per pixel: ``sha256(f"{seed}:{nside}:{pixel}")``.

    Stable across processes and machines; computed once per distinct pixel.
    """
    uniq, inverse = np.unique(np.asarray(pixels, dtype=np.int64), return_inverse=True)
    values = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{seed}:{nside}:{p}".encode()).digest()[:8], "big")
            / 2.0**64
            for p in uniq
        ]
    )
    return values[inverse] if uniq.size else np.zeros(0)


def assign_splits(
    pixels: np.ndarray, nside: int, seed: int, fractions: Mapping[str, float]
) -> np.ndarray:
    """Split name of each object, decided by its pixel alone (so pixels never straddle).

    Parameters
    ----------
    pixels : numpy.ndarray
        NESTED HEALPix pixels.
    nside, seed : int
        Resolution and key of the hash.
    fractions : Mapping
        Split name to target fraction (in order), summing to 1.

    Returns
    -------
    numpy.ndarray
        Object array of split names.
    """
    names = list(fractions)
    edges = np.cumsum([fractions[n] for n in names])
    u = pixel_uniform(pixels, nside, seed)
    index = np.minimum(np.searchsorted(edges, u, side="right"), len(names) - 1)
    return np.array(names, dtype=object)[index]
