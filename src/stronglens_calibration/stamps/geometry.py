"""Apertures on a stamp: core disc and annulus, centred on pixel ``(H // 2, W // 2)``."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def radius_map(size: int) -> np.ndarray:
    """Distance in pixels of each pixel centre from the centre pixel; ``(size, size)``."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"stamp 'size' must be a positive odd integer, got {size}")
    c = size // 2
    yy, xx = np.indices((size, size))
    r = np.hypot(yy - c, xx - c)
    r.setflags(write=False)
    return r


def core_mask(size: int, radius_px: float) -> np.ndarray:
    """Pixels with ``r < radius_px``; bool ``(size, size)``."""
    if not radius_px > 0:
        raise ValueError(f"'core_radius_px' must be positive, got {radius_px}")
    return radius_map(size) < radius_px


def annulus_mask(size: int, inner_px: float, outer_px: float) -> np.ndarray:
    """Pixels with ``inner_px <= r < outer_px``; bool ``(size, size)``."""
    if not 0 <= inner_px < outer_px:
        raise ValueError(
            f"annulus radii must satisfy 0 <= inner < outer, got {inner_px}, {outer_px}"
        )
    if outer_px > size // 2 * np.sqrt(2) + 1:
        raise ValueError(f"annulus outer radius {outer_px} px lies outside a {size}-pixel stamp")
    r = radius_map(size)
    mask = (r >= inner_px) & (r < outer_px)
    if not mask.any():
        raise ValueError(f"annulus [{inner_px}, {outer_px}) px holds no pixel")
    return mask


def centre_slice(size: int, crop: int) -> slice:
    """The ``crop`` pixels of a ``size``-pixel axis centred on pixel ``size // 2``.

    Odd and even crops alike start at ``size // 2 - crop // 2``, so the centre pixel of
    the stamp stays the centre (or, for an even crop, the first pixel right of centre).

    Raises
    ------
    ValueError
        When ``crop`` is not in ``[1, size]``.
    """
    if not 1 <= crop <= size:
        raise ValueError(f"'crop' must be between 1 and the stamp size {size}, got {crop}")
    start = size // 2 - crop // 2
    return slice(start, start + crop)


def centre_crop(stamps: np.ndarray, crop: int) -> np.ndarray:
    """The central ``crop`` x ``crop`` pixels of stamps ``(..., H, W)`` (a view)."""
    return stamps[..., centre_slice(stamps.shape[-2], crop), centre_slice(stamps.shape[-1], crop)]
