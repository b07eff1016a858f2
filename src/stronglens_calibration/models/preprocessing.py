"""The one preprocessing used at training, evaluation and inference."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.geometry import centre_crop
from stronglens_calibration.stamps.statistics import MAD_TO_SIGMA

#: Floor on the normalisation scale, nanomaggies per pixel (guards MAD = 0).
_MIN_SCALE = 1e-6


@dataclass(frozen=True)
class Preprocessing:
    """Per-band annulus normalisation, clipping and centre crop.

    ``x' = clip((x - median) / (1.4826 MAD), -clip, clip)`` per band, with the annulus
    median and MAD that quality measured on the raw, NaN-aware pixels; then the central
    ``crop`` x ``crop`` pixels. Saved with the model, so a reloaded model preprocesses
    identically.

    Attributes
    ----------
    clip : float
        Clip level in units of the sky sigma.
    crop : int
        Side of the centre crop in pixels (odd or even; centred on ``H // 2``).
    bands : tuple of str
        Band order (g, r, z).
    """

    clip: float
    crop: int
    bands: tuple[str, ...] = BANDS

    def __post_init__(self) -> None:
        if not self.clip > 0:
            raise ValueError(f"'clip' must be positive, got {self.clip}")
        if self.crop < 8:
            raise ValueError(f"'crop' must be >= 8, got {self.crop}")

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a checkpoint."""
        return {"clip": float(self.clip), "crop": int(self.crop), "bands": list(self.bands)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`."""
        return cls(clip=float(d["clip"]), crop=int(d["crop"]), bands=tuple(d["bands"]))

    def __call__(self, stamps: np.ndarray, median: np.ndarray, mad: np.ndarray) -> np.ndarray:
        """Preprocess a batch.

        Parameters
        ----------
        stamps : numpy.ndarray
            float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
        median, mad : numpy.ndarray
            ``(n, 3)`` annulus median and (raw) MAD per band, nanomaggies per pixel.

        Returns
        -------
        numpy.ndarray
            float32 ``(n, 3, crop, crop)``; NaN stays NaN (the caller decides).
        """
        n, nb, h, w = stamps.shape
        if self.crop > min(h, w):
            raise ValueError(f"crop {self.crop} px exceeds the stamp size {h} x {w}")
        x = centre_crop(stamps, self.crop).astype(np.float32)  # a copy: worked in place
        scale = np.maximum(MAD_TO_SIGMA * np.asarray(mad, np.float32), _MIN_SCALE)
        x -= np.asarray(median, np.float32)[:, :, None, None]
        x /= scale[:, :, None, None]
        return np.clip(x, -self.clip, self.clip, out=x)


def asdict_preprocessing(p: Preprocessing) -> dict[str, Any]:
    """The dataclass as a dict (for logging)."""
    return asdict(p)
