"""Pixel features of the gates, read from the stamp store as central crops."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.store import shard_name


def read_crops(
    objects: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    half_size: int | None = None,
) -> np.ndarray:
    """Central crops of the objects' stamps (whole stamps by default), in table order;
    each shard is opened once. A row may appear more than once.

    Parameters
    ----------
    objects : pandas.DataFrame
        Rows with ``shard`` and ``offset``.
    stamps : Mapping
        Shard name to loader (memory-mapped when local).
    half_size : int, optional
        Crop half-width in pixels; the crop is ``2 * half_size + 1`` on a side. ``None``:
        the whole stamp.

    Returns
    -------
    numpy.ndarray
        float32 ``(n, 3, 2h + 1, 2h + 1)`` (or ``(n, 3, H, W)``), g, r, z, nanomaggies
        per pixel.
    """
    out = None
    order = np.argsort(
        objects["shard"].to_numpy() * 10**7 + objects["offset"].to_numpy(), kind="stable"
    )
    rows = objects.iloc[order]
    for shard, part in rows.groupby("shard", sort=True):
        data = stamps[shard_name(int(shard))]()
        c = data.shape[-1] // 2
        half = c if half_size is None else half_size
        if half > c:
            raise ValueError(f"crop half-size {half} px exceeds the stamp ({data.shape[-1]} px)")
        crop = np.asarray(
            data[
                part["offset"].to_numpy(),
                :,
                c - half : c + half + 1,
                c - half : c + half + 1,
            ],
            dtype=np.float32,
        )
        if out is None:
            out = np.empty((len(objects), *crop.shape[1:]), dtype=np.float32)
        out[order[np.flatnonzero(rows["shard"].to_numpy() == shard)]] = crop
    if out is None:
        raise ValueError("no object to read")
    return out


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
