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


def region_holdout(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    nside: int,
    seed: int,
    fraction: float,
    max_fraction: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Whole coarse HEALPix pixels held out, holding about ``fraction`` of the objects.

    The coarse pixels are visited in the order of their hash (:func:`pixel_uniform`) and
    taken until they hold at least ``fraction`` of the objects; a pixel that would take
    the share above ``max_fraction`` is passed over (a sample crowded into a few pixels
    may hold out less, or nothing). The choice depends on the sky positions and the seed
    alone, never on labels.

    Parameters
    ----------
    ra_deg, dec_deg : numpy.ndarray
        ``(n,)`` positions in degrees.
    nside : int
        The coarse resolution (NESTED), a power of two: e.g. 8, pixels of ~7.3 deg.
    seed : int
        Key of the hash.
    fraction : float
        Share of the objects to hold out, in ``[0, 1)``; 0 holds out nothing.
    max_fraction : float
        The largest share held out (e.g. the test split's fraction).

    Returns
    -------
    held_out : numpy.ndarray
        ``(n,)`` bool.
    pixels : numpy.ndarray
        The held-out coarse pixels (int64, sorted).
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"'fraction' must be in [0, 1), got {fraction}")
    coarse = healpix_nested(ra_deg, dec_deg, nside)
    if fraction == 0.0 or coarse.size == 0:
        return np.zeros(coarse.size, dtype=bool), np.zeros(0, dtype=np.int64)
    uniq, counts = np.unique(coarse, return_counts=True)
    order = np.argsort(pixel_uniform(uniq, nside, seed), kind="stable")
    needed, cap = fraction * coarse.size, max_fraction * coarse.size
    taken, total = [], 0
    for k in order:
        if total >= needed:
            break
        if total + counts[k] <= cap:
            taken.append(uniq[k])
            total += int(counts[k])
    pixels = np.sort(np.asarray(taken, dtype=np.int64))
    return np.isin(coarse, pixels), pixels


def parent_pixels(pixels: np.ndarray, nside: int, coarse_nside: int) -> np.ndarray:
    """The NESTED pixel at ``coarse_nside`` that holds each NESTED pixel at ``nside``.

    In the NESTED scheme a pixel's parent is its index shifted right by two bits per
    halving of nside, exactly (no position is needed).
    """
    if coarse_nside > nside or nside % coarse_nside or coarse_nside & (coarse_nside - 1):
        raise ValueError(
            f"'coarse_nside' ({coarse_nside}) must be a power of two no finer than nside {nside}"
        )
    shift = 2 * (int(nside).bit_length() - int(coarse_nside).bit_length())
    return np.asarray(pixels, dtype=np.int64) >> shift
