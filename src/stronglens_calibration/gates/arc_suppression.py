"""Gate 1.7: suppress the arcs and see whether the model still calls the object a lens."""

from __future__ import annotations

import numpy as np

from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.statistics import MAD_TO_SIGMA, nanmedian_rows


def suppress_arcs(
    stamps: np.ndarray,
    annulus_px: tuple[float, float],
    noise_annulus_px: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Replace the annulus where arcs live by the lens light's azimuthal median plus noise.

    In every 1-pixel ring of ``annulus_px`` each pixel becomes the ring's median (per
    band: the smooth, azimuthally symmetric light of the lens galaxy, which an arc
    occupying a fraction of the ring barely moves) plus Gaussian noise with the sky sigma
    measured as 1.4826 x MAD in ``noise_annulus_px``.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
    annulus_px : tuple of float
        Inner and outer radius (pixels) of the region to suppress.
    noise_annulus_px : tuple of float
        Sky-dominated ring (pixels) where the noise level is measured.
    rng : numpy.random.Generator
        Source of the replacement noise.

    Returns
    -------
    numpy.ndarray
        float32 copy with the annulus replaced.
    """
    n, nb, h, w = stamps.shape
    r = radius_map(h)
    out = np.array(stamps, dtype=np.float32, copy=True)
    flat = out.reshape(n * nb, h * w)
    sky = flat[:, ((r >= noise_annulus_px[0]) & (r < noise_annulus_px[1])).ravel()]
    sky_med = nanmedian_rows(sky)
    sigma = MAD_TO_SIGMA * nanmedian_rows(np.abs(sky - sky_med[:, None].astype(np.float32)))
    lo, hi = annulus_px
    for ring in np.arange(np.floor(lo), np.ceil(hi)):
        m = ((r >= max(ring, lo)) & (r < min(ring + 1, hi))).ravel()
        if not m.any():
            continue
        med = nanmedian_rows(flat[:, m])
        noise = rng.standard_normal((n * nb, int(m.sum()))) * sigma[:, None]
        flat[:, m] = (med[:, None] + noise).astype(np.float32)
    return out
