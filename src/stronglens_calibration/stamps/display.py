"""Colour composites of g, r, z stamps for people to look at."""

from __future__ import annotations

import numpy as np

#: Per-band weights of the Legacy Surveys viewer's colour images (g, r, z).
VIEWER_BAND_WEIGHTS: tuple[float, float, float] = (6.0, 3.4, 2.2)


def rgb_composite(stamp: np.ndarray, q: float = 8.0, stretch: float = 0.15) -> np.ndarray:
    """Lupton et al. (2004) asinh colour composite of a g, r, z stamp.

    Parameters
    ----------
    stamp : numpy.ndarray
        ``(3, H, W)`` in band order g, r, z, nanomaggies per pixel; NaN is shown black.
    q : float
        Asinh softening parameter.
    stretch : float
        Linear stretch in weighted nanomaggies.

    Returns
    -------
    numpy.ndarray
        uint8 ``(H, W, 3)`` RGB image (red = z, green = r, blue = g).
    """
    from astropy.visualization import make_lupton_rgb

    if stamp.ndim != 3 or stamp.shape[0] != 3:
        raise ValueError(f"'stamp' must be (3, H, W) in g, r, z order, got {stamp.shape}")
    g, r, z = (
        np.nan_to_num(stamp[i].astype(np.float64), nan=0.0) * w
        for i, w in enumerate(VIEWER_BAND_WEIGHTS)
    )
    # pixels of zero summed intensity (no coverage, or a residual at or below zero) are
    # 0 / 0 inside the asinh scaling; they come out black, as they should
    with np.errstate(invalid="ignore", divide="ignore"):
        return make_lupton_rgb(z, r, g, minimum=0.0, Q=q, stretch=stretch)


def azimuthal_median_residual(stamp: np.ndarray) -> np.ndarray:
    """The stamp minus its azimuthal median, per band and 1-pixel ring around the centre:
    the smooth, round light of a lens galaxy goes (to within its change across one
    ring), arcs and other asymmetric light stay (what lens searchers look at to see
    faint arcs).

    Parameters
    ----------
    stamp : numpy.ndarray
        float32 ``(3, H, W)``, nanomaggies per pixel.

    Returns
    -------
    numpy.ndarray
        float32 ``(3, H, W)`` residual.
    """
    from stronglens_calibration.stamps.geometry import radius_map
    from stronglens_calibration.stamps.statistics import nanmedian_rows

    nb, h, w = stamp.shape
    ring = np.floor(radius_map(h)).astype(int).ravel()
    flat = np.array(stamp, dtype=np.float32).reshape(nb, h * w)
    out = flat.copy()
    for k in np.unique(ring):
        m = ring == k
        out[:, m] -= nanmedian_rows(flat[:, m])[:, None].astype(np.float32)
    return out.reshape(nb, h, w)
