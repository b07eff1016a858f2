"""Sky and source noise of DR10 coadds."""

from __future__ import annotations

import numpy as np


def pixel_variance(
    image: np.ndarray, sky_sigma: np.ndarray, counts_per_nanomaggy: np.ndarray
) -> np.ndarray:
    """Per-pixel noise variance ``sky_sigma**2 + max(image, 0) / counts_per_nanomaggy``
    (nanomaggies^2) of a ``(B, H, W)`` stamp, with ``(B,)`` sky sigmas and gains."""
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
    return var


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
    var = pixel_variance(image, sky_sigma, counts_per_nanomaggy)
    noisy = image + rng.standard_normal(image.shape) * np.sqrt(var)
    return noisy.astype(np.float32)


def lanczos3_weights(shift: float) -> np.ndarray:
    """The 6 Lanczos-3 weights that interpolate a row at a sub-pixel ``shift`` in [0, 1)
    (taps at offsets -2 ... 3 from the pixel), normalised to unit sum."""
    k = np.arange(-2, 4) - shift
    w = np.sinc(k) * np.sinc(k / 3.0)
    return w / w.sum()


def _diffusion_kernel(sigma_px: float) -> np.ndarray:
    if sigma_px <= 0:
        return np.ones(1)
    half = max(1, int(np.ceil(4 * sigma_px)))
    x = np.arange(-half, half + 1)
    g = np.exp(-0.5 * (x / sigma_px) ** 2)
    return g / g.sum()


def coadd_noise_field(
    shape: tuple[int, int],
    n_exposures: int,
    diffusion_sigma_px: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Unit-variance noise correlated as a DR10 coadd correlates it.

    Each exposure's noise is white at the native pixels, spread by charge diffusion in
    the CCD (a Gaussian of ``diffusion_sigma_px``), then resampled onto the brick grid
    with Lanczos-3 at a random sub-pixel offset in x and y, as the coadds are made; the
    coadd averages the exposures. The result is scaled to unit variance exactly (from
    the kernels), so the caller multiplies by the per-pixel sigma.

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)``.
    n_exposures : int
        Exposures averaged (>= 1; the coadd's NOBS).
    diffusion_sigma_px : float
        Gaussian sigma in native pixels (0: none).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        float64 ``(H, W)``, zero mean, unit variance per pixel.
    """
    from scipy.ndimage import correlate1d

    if n_exposures < 1:
        raise ValueError(f"'n_exposures' must be >= 1, got {n_exposures}")
    if diffusion_sigma_px < 0:
        raise ValueError(f"'diffusion_sigma_px' must be >= 0, got {diffusion_sigma_px}")
    h, w = shape
    diffusion = _diffusion_kernel(diffusion_sigma_px)
    pad = len(diffusion) // 2 + 3
    total = np.zeros((h, w))
    variance = 0.0
    for _ in range(n_exposures):
        kx = np.convolve(diffusion, lanczos3_weights(rng.random()))
        ky = np.convolve(diffusion, lanczos3_weights(rng.random()))
        white = rng.standard_normal((h + 2 * pad, w + 2 * pad))
        field = correlate1d(correlate1d(white, kx, axis=1), ky, axis=0)
        total += field[pad : pad + h, pad : pad + w]
        variance += float((kx**2).sum() * (ky**2).sum())
    return total / np.sqrt(variance)


def add_coadd_noise(
    image: np.ndarray,
    sky_sigma: np.ndarray,
    counts_per_nanomaggy: np.ndarray,
    n_exposures: np.ndarray,
    diffusion_sigma_px: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """:func:`add_noise` with the noise of each band correlated as the coadds correlate
    it (:func:`coadd_noise_field`); the per-pixel variance is the same.

    Parameters
    ----------
    n_exposures : numpy.ndarray
        Exposures per band, shape ``(B,)`` (0 is taken as 1: the band is then blanked by
        the caller).
    """
    var = pixel_variance(image, sky_sigma, counts_per_nanomaggy)
    fields = np.stack(
        [
            coadd_noise_field(image.shape[1:], max(int(k), 1), diffusion_sigma_px, rng)
            for k in n_exposures
        ]
    )
    return (image + fields * np.sqrt(var)).astype(np.float32)
