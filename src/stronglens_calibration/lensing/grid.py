"""Pixel grids with sub-pixel sampling."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class PixelGrid:
    """A square stamp of ``size`` x ``size`` pixels sampled ``oversample`` times per axis.

    Parameters
    ----------
    size : int
        Stamp side in pixels; odd, so that the object sits on the centre pixel
        ``(size // 2, size // 2)``.
    pixel_scale : float
        Pixel side in arcsec (DR10: 0.262).
    oversample : int
        Sub-samples per pixel and axis (>= 1). Odd values put a sample on the exact centre.
    """

    size: int
    pixel_scale: float
    oversample: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.size, int | np.integer) or self.size < 1 or self.size % 2 == 0:
            raise ValueError(f"'size' must be a positive odd integer, got {self.size!r}")
        if not self.pixel_scale > 0:
            raise ValueError(f"'pixel_scale' must be positive, got {self.pixel_scale!r}")
        if not isinstance(self.oversample, int | np.integer) or self.oversample < 1:
            raise ValueError(f"'oversample' must be an integer >= 1, got {self.oversample!r}")

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in arcsec^2."""
        return self.pixel_scale**2

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Sky offsets of the sub-pixel sample centres.

        Returns
        -------
        x, y : numpy.ndarray
            Read-only float64 arrays of shape ``(size * oversample, size * oversample)``,
            offsets in arcsec from the centre of pixel ``(size // 2, size // 2)``;
            ``x`` varies along axis 1 (columns), ``y`` along axis 0 (rows).
        """
        return _coordinates(int(self.size), float(self.pixel_scale), int(self.oversample))

    def bin(self, samples: np.ndarray) -> np.ndarray:
        """Average sub-pixel samples into pixels.

        Parameters
        ----------
        samples : numpy.ndarray
            Shape ``(..., size * oversample, size * oversample)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(..., size, size)``: the mean of each pixel's samples.
        """
        s, o = self.size, self.oversample
        if samples.shape[-2:] != (s * o, s * o):
            raise ValueError(f"'samples' must end with shape {(s * o, s * o)}, got {samples.shape}")
        if o == 1:
            return samples
        lead = samples.shape[:-2]
        return samples.reshape(*lead, s, o, s, o).mean(axis=(-3, -1))


@lru_cache(maxsize=8)
def _coordinates(size: int, pixel_scale: float, oversample: int) -> tuple[np.ndarray, np.ndarray]:
    centre = size // 2
    sub = (np.arange(size * oversample) + 0.5) / oversample - 0.5 - centre
    axis = sub * pixel_scale
    y, x = np.meshgrid(axis, axis, indexing="ij")
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y
