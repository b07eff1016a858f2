"""Sky and source noise of DR10 coadds."""

from __future__ import annotations

import numpy as np


def add_noise(
    image: np.ndarray,
    sky_sigma: np.ndarray,
    counts_per_nanomaggy: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Add Gaussian sky noise and source shot noise to a sky-subtracted stamp.

    The variance of each pixel is ``sky_sigma**2 + max(image, 0) / counts_per_nanomaggy``
    (Poisson statistics of the source photons in the Gaussian limit).

    Parameters
    ----------
    image : numpy.ndarray
        Noise-free stamp, shape ``(B, H, W)``, nanomaggies per pixel.
    sky_sigma : numpy.ndarray
        Per-band sky noise, shape ``(B,)``, nanomaggies per pixel.
    counts_per_nanomaggy : numpy.ndarray
        Per-band effective photo-electrons per nanomaggy of the coadd, shape ``(B,)``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        float32 stamp of shape ``(B, H, W)``.
    """
    sky_sigma = np.asarray(sky_sigma, dtype=np.float64)
    gain = np.asarray(counts_per_nanomaggy, dtype=np.float64)
    if image.ndim != 3 or sky_sigma.shape != (image.shape[0],) or gain.shape != sky_sigma.shape:
        raise ValueError(
            "'image' must be (B, H, W) with 'sky_sigma' and 'counts_per_nanomaggy' of shape "
            f"(B,); got {image.shape}, {sky_sigma.shape}, {gain.shape}"
        )
    if np.any(sky_sigma < 0) or np.any(gain <= 0):
        raise ValueError("'sky_sigma' must be >= 0 and 'counts_per_nanomaggy' > 0")
    var = sky_sigma[:, None, None] ** 2 + np.clip(image, 0, None) / gain[:, None, None]
    noisy = image + rng.standard_normal(image.shape) * np.sqrt(var)
    return noisy.astype(np.float32)
