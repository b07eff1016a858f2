"""Pixel features of the gates: core pixels and radial profiles of central crops."""

from __future__ import annotations

import numpy as np

from stronglens_calibration.stamps.geometry import radius_map


def core_pixels(crops: np.ndarray, radius_px: float) -> np.ndarray:
    """Pixels with ``r < radius_px`` of every band, ``(n, 3 * n_core)``."""
    size = crops.shape[-1]
    mask = radius_map(size) < radius_px
    if not mask.any():
        raise ValueError(f"core radius {radius_px} px holds no pixel")
    return crops[:, :, mask].reshape(len(crops), -1)


def radial_profiles(crops: np.ndarray, rings: list[tuple[float, float]]) -> np.ndarray:
    """Azimuthally averaged profile per band: the mean of the pixels in each ring
    ``[lo, hi)`` (pixels); ``(n, 3 * len(rings))``. Rings need not be contiguous."""
    r = radius_map(crops.shape[-1])
    flat = crops.reshape(len(crops), crops.shape[1], -1)
    cols = []
    for lo, hi in rings:
        m = ((r >= lo) & (r < hi)).ravel()
        if not m.any():
            raise ValueError(f"radial bin [{lo}, {hi}) px holds no pixel")
        cols.append(flat[:, :, m].mean(axis=2))
    return np.concatenate(cols, axis=1)
