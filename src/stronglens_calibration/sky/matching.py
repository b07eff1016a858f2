"""Cross-matching on the sphere with a k-d tree on unit vectors."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def unit_vectors(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Cartesian unit vectors of sky positions.

    Parameters
    ----------
    ra_deg, dec_deg : numpy.ndarray
        ICRS right ascension and declination in degrees, shape ``(N,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(N, 3)``.
    """
    ra = np.deg2rad(np.asarray(ra_deg, dtype=np.float64))
    dec = np.deg2rad(np.asarray(dec_deg, dtype=np.float64))
    if ra.shape != dec.shape or ra.ndim != 1:
        raise ValueError(
            f"'ra_deg' and 'dec_deg' must be 1-D of one length, got {ra.shape}, {dec.shape}"
        )
    if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
        raise ValueError("'ra_deg' and 'dec_deg' must be finite")
    cos_dec = np.cos(dec)
    return np.column_stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)])


def _chord(arcsec: float) -> float:
    return 2.0 * np.sin(np.deg2rad(arcsec / 3600.0) / 2.0)


def _arcsec(chord: np.ndarray) -> np.ndarray:
    return np.rad2deg(2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))) * 3600.0


def separation_arcsec(
    ra1_deg: np.ndarray, dec1_deg: np.ndarray, ra2_deg: np.ndarray, dec2_deg: np.ndarray
) -> np.ndarray:
    """Great-circle separation in arcsec of position pairs (deg), element by element."""
    a = unit_vectors(np.atleast_1d(ra1_deg), np.atleast_1d(dec1_deg))
    b = unit_vectors(np.atleast_1d(ra2_deg), np.atleast_1d(dec2_deg))
    return _arcsec(np.linalg.norm(a - b, axis=1))


def nearest_neighbour(
    ra_deg: np.ndarray, dec_deg: np.ndarray, cat_ra_deg: np.ndarray, cat_dec_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each position, the nearest catalogue entry and its separation.

    Returns
    -------
    index : numpy.ndarray
        int64 ``(N,)`` row of the nearest catalogue entry.
    separation_arcsec : numpy.ndarray
        float64 ``(N,)`` great-circle separation in arcsec.
    """
    tree = cKDTree(unit_vectors(cat_ra_deg, cat_dec_deg))
    chord, index = tree.query(unit_vectors(ra_deg, dec_deg), k=1)
    return index.astype(np.int64), _arcsec(chord)


def within_radius(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    cat_ra_deg: np.ndarray,
    cat_dec_deg: np.ndarray,
    radius_arcsec: float,
) -> np.ndarray:
    """Whether each position has a catalogue entry within ``radius_arcsec``.

    Returns
    -------
    numpy.ndarray
        bool ``(N,)``.
    """
    if not radius_arcsec >= 0:
        raise ValueError(f"'radius_arcsec' must be >= 0, got {radius_arcsec}")
    if len(cat_ra_deg) == 0:
        return np.zeros(len(ra_deg), dtype=bool)
    _, sep = nearest_neighbour(ra_deg, dec_deg, cat_ra_deg, cat_dec_deg)
    return sep <= radius_arcsec


def pairs_within(ra_deg: np.ndarray, dec_deg: np.ndarray, radius_arcsec: float) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of positions closer than ``radius_arcsec``.

    Returns
    -------
    numpy.ndarray
        int64 ``(P, 2)``, sorted.
    """
    tree = cKDTree(unit_vectors(ra_deg, dec_deg))
    pairs = tree.query_pairs(_chord(radius_arcsec), output_type="ndarray")
    if pairs.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


class SkyIndex:
    """A k-d tree over catalogue positions, built once and queried many times.

    Parameters
    ----------
    ra_deg, dec_deg : numpy.ndarray
        Catalogue positions in degrees, shape ``(M,)``, finite.
    """

    def __init__(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> None:
        self.size = len(ra_deg)
        self._tree = cKDTree(unit_vectors(ra_deg, dec_deg)) if self.size else None

    def nearest(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of and separation (arcsec) to the nearest catalogue entry; ``(N,)`` each.

        With an empty catalogue the index is -1 and the separation infinite.
        """
        if self._tree is None:
            n = len(ra_deg)
            return np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        chord, index = self._tree.query(unit_vectors(ra_deg, dec_deg), k=1)
        return index.astype(np.int64), _arcsec(chord)

    def two_nearest(
        self, ra_deg: np.ndarray, dec_deg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Index of and separation (arcsec) to the nearest entry, and the separation to the
        second nearest (infinite when there is none); ``(N,)`` each."""
        n = len(ra_deg)
        if self._tree is None:
            return np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.full(n, np.inf)
        if self.size == 1:
            index, sep = self.nearest(ra_deg, dec_deg)
            return index, sep, np.full(n, np.inf)
        chord, index = self._tree.query(unit_vectors(ra_deg, dec_deg), k=2)
        return index[:, 0].astype(np.int64), _arcsec(chord[:, 0]), _arcsec(chord[:, 1])

    def within(self, ra_deg: np.ndarray, dec_deg: np.ndarray, radius_arcsec: float) -> np.ndarray:
        """Whether each position has a catalogue entry within ``radius_arcsec``; bool ``(N,)``."""
        if not radius_arcsec >= 0:
            raise ValueError(f"'radius_arcsec' must be >= 0, got {radius_arcsec}")
        return self.nearest(ra_deg, dec_deg)[1] <= radius_arcsec
