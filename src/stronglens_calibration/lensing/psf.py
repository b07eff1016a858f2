"""Point-spread functions and convolution."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

#: Sub-samples per pixel and axis used to integrate the PSF over each pixel.
_PSF_OVERSAMPLE = 5


def moffat_kernel(
    fwhm_arcsec: float, pixel_scale: float, beta: float = 3.5, size: int | None = None
) -> np.ndarray:
    """Pixel-integrated circular Moffat PSF, normalised to unit sum.

    ``P(r) ~ (1 + (r / alpha)^2) ** -beta`` with
    ``alpha = fwhm / (2 sqrt(2 ** (1 / beta) - 1))``.

    Parameters
    ----------
    fwhm_arcsec : float
        Full width at half maximum in arcsec (> 0).
    pixel_scale : float
        Pixel side in arcsec.
    beta : float
        Moffat power index (> 1); ground-based seeing is well described by 3-4.5.
    size : int, optional
        Odd kernel side in pixels; default ``2 * ceil(2.5 FWHM / pixel) + 1``.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(size, size)`` centred on ``(size // 2, size // 2)``.
    """
    if not fwhm_arcsec > 0:
        raise ValueError(f"'fwhm_arcsec' must be positive, got {fwhm_arcsec}")
    if not beta > 1:
        raise ValueError(f"Moffat 'beta' must exceed 1, got {beta}")
    if size is None:
        size = 2 * int(np.ceil(2.5 * fwhm_arcsec / pixel_scale)) + 1
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel 'size' must be a positive odd integer, got {size}")
    alpha = fwhm_arcsec / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    o = _PSF_OVERSAMPLE
    axis = ((np.arange(size * o) + 0.5) / o - 0.5 - size // 2) * pixel_scale
    y, x = np.meshgrid(axis, axis, indexing="ij")
    prof = (1.0 + (x * x + y * y) / alpha**2) ** (-beta)
    kernel = prof.reshape(size, o, size, o).sum(axis=(1, 3))
    return kernel / kernel.sum()


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve an image with a PSF kernel, keeping the image's shape and centre.

    Parameters
    ----------
    image : numpy.ndarray
        Shape ``(H, W)``, any flux units.
    kernel : numpy.ndarray
        Odd-sized kernel of unit sum.

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W)``; flux scattered beyond the edges is lost, as in a real cutout.
    """
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"'image' and 'kernel' must be 2-D, got {image.shape} and {kernel.shape}")
    return fftconvolve(image, kernel, mode="same")
