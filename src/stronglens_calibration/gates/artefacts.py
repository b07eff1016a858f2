"""Artefact indicators: pixels that carry no sky, measured where the gates and the
network look (the core and the arc annulus).

A mask, a chip gap or a failed coadd leaves exact zeros, NaNs or flat (constant) patches
in a cutout. If they are more common in one class, a network learns them instead of
arcs, and no flux statistic notices: an audit of the demo zeroed a 6 x 6 pixel patch at
10-20 px in every lens stamp, and every flux gate stayed where it was while the network
reached a test AUC of 1.000. The artefact gate fits a held-out classifier on these
indicators, per band and region: a class difference in them is a shortcut.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter, minimum_filter

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.geometry import centre_slice, radius_map

#: Indicators per band and region, in feature order.
KINDS: tuple[str, ...] = ("zero", "nan", "constant")


def _constant_centres(images: np.ndarray, window: int) -> np.ndarray:
    """Pixels at the centre of a ``window`` x ``window`` patch whose values are all equal
    (NaNs count as unequal); bool of the shape of ``images`` ``(n, 3, h, w)``."""
    finite = np.isfinite(images)
    size = (1, 1, window, window)
    high = maximum_filter(np.where(finite, images, np.inf), size=size, mode="nearest")
    low = minimum_filter(np.where(finite, images, -np.inf), size=size, mode="nearest")
    return high == low


def artefact_indicators(
    crops: np.ndarray,
    core_radius_px: float,
    annulus_px: tuple[float, float],
    window: int = 3,
    chunk: int = 256,
) -> tuple[np.ndarray, list[str]]:
    """Fractions of exact-zero, NaN and constant-patch pixels per band, in the core and
    the arc annulus.

    Parameters
    ----------
    crops : numpy.ndarray
        ``(n, 3, c, c)`` central crops (g, r, z; nanomaggies per pixel).
    core_radius_px : float
        Core: ``r < core_radius_px``.
    annulus_px : tuple of float
        Arc annulus ``[inner, outer)`` in pixels.
    window : int
        Side of the patches tested for constancy (pixels).
    chunk : int
        Objects per filter pass (bounds the memory).

    Returns
    -------
    features : numpy.ndarray
        float64 ``(n, 3 * 2 * len(KINDS))``: the fraction of the region's pixels of each
        kind.
    names : list of str
        ``<kind>_<region>_<band>`` for each column.
    """
    if crops.ndim != 4 or crops.shape[1] != len(BANDS):
        raise ValueError(f"crops must be (n, {len(BANDS)}, c, c), got {crops.shape}")
    # only the pixels of the regions and their patches' neighbours are needed: a pixel at
    # r < outer lies within ceil(outer) - 1 of the centre, its patch window // 2 further
    side = crops.shape[-1]
    half = min(side // 2, int(np.ceil(max(core_radius_px, annulus_px[1]))) + window // 2)
    window_px = centre_slice(side, 2 * half + 1)
    crops = crops[:, :, window_px, window_px]
    r = radius_map(crops.shape[-1])
    regions = {
        "core": r < core_radius_px,
        "annulus": (r >= annulus_px[0]) & (r < annulus_px[1]),
    }
    names = [f"{k}_{region}_{b}" for region in regions for k in KINDS for b in BANDS]
    out = np.zeros((len(crops), len(names)))
    for start in range(0, len(crops), chunk):
        block = np.asarray(crops[start : start + chunk], dtype=np.float32)
        kinds = {
            "zero": block == 0.0,
            "nan": ~np.isfinite(block),
            "constant": _constant_centres(block, window),
        }
        columns = []
        for mask in regions.values():
            for kind in KINDS:
                columns.append(kinds[kind][:, :, mask].mean(axis=2))  # (m, 3)
        out[start : start + len(block)] = np.concatenate(columns, axis=1)
    return out, names


def class_rates(
    features: np.ndarray, names: list[str], labels: np.ndarray, weights: np.ndarray
) -> dict[str, dict[str, float]]:
    """Per indicator, the fraction of lenses and the weighted fraction of non-lenses that
    show it at all (any pixel), for the report."""
    pos, neg = labels == 1, labels == 0
    any_pixel = features > 0
    rates = {}
    for j, name in enumerate(names):
        lens = float(any_pixel[pos, j].mean()) if pos.any() else float("nan")
        w = weights[neg]
        non = float(np.average(any_pixel[neg, j], weights=w)) if w.sum() > 0 else float("nan")
        rates[name] = {"lenses": lens, "non_lenses": non}
    return rates
