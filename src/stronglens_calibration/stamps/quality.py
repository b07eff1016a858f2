"""Quality assessment of the stamp store: statistics per shard and flags per object."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.statistics import stamp_statistics


class StoreInconsistencyError(ValueError):
    """The store's band set or stamp size is not the one every other shard has."""


def shard_statistics(
    shard: str,
    loader: Callable[[], np.ndarray],
    offsets: np.ndarray,
    object_ids: list[str],
    stamp_size: int,
    core_radius_px: float,
    annulus_px: tuple[float, float],
    batch_size: int,
    coverage: tuple[float, int] = (5.0, 3),
) -> pd.DataFrame:
    """Statistics of the stamps of one shard (a worker task; reads the shard once).

    Parameters
    ----------
    shard : str
        Partition name, for messages.
    loader : callable
        Returns the shard, float32 ``(n, 3, H, W)`` (memory-mapped when local).
    offsets : numpy.ndarray
        Rows of the shard to assess.
    object_ids : list of str
        The objects at those rows, named in errors.
    stamp_size : int
        Expected ``H = W``.
    core_radius_px, annulus_px : float, tuple
        Apertures in pixels.
    batch_size : int
        Stamps processed at a time (bounds memory).
    coverage : tuple
        ``(core radius in pixels, shortest zero run in pixels)`` of the no-coverage
        statistics.

    Returns
    -------
    pandas.DataFrame
        One row per offset: ``object_id`` and the columns of
        :func:`~stronglens_calibration.stamps.statistics.stamp_statistics`.
    """
    data = loader()
    expected = (len(BANDS), stamp_size, stamp_size)
    if data.ndim != 4 or data.shape[1:] != expected or data.dtype != np.float32:
        raise StoreInconsistencyError(
            f"shard {shard} holds {data.dtype} stamps of shape {data.shape[1:]}, the store "
            f"expects float32 {expected} (bands {''.join(BANDS)}); objects: "
            f"{', '.join(object_ids[:10])}{' ...' if len(object_ids) > 10 else ''}"
        )
    if offsets.size and offsets.max() >= data.shape[0]:
        raise StoreInconsistencyError(
            f"shard {shard} has {data.shape[0]} stamps but the object table points at "
            f"offset {offsets.max()}; rerun ingest"
        )
    parts = []
    for start in range(0, offsets.size, batch_size):
        idx = offsets[start : start + batch_size]
        if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
            batch = data[idx[0] : idx[0] + idx.size]  # a view: no copy of the pixels
        else:
            batch = np.asarray(data[idx])
        parts.append(pd.DataFrame(stamp_statistics(batch, core_radius_px, annulus_px, *coverage)))
    stats = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    stats.insert(0, "object_id", object_ids)
    return stats


def quality_flags(objects: pd.DataFrame, max_no_coverage_fraction: float = 1.0) -> pd.Series:
    """``|``-joined reasons why each object is unusable (``""`` when it is fine).

    Uses ingest's ``cutout_error`` and the statistics columns; NaN or Inf anywhere, an
    empty band (absent, all zero or all non-finite), a constant band, no coverage near the
    centre, and no coverage over more than ``max_no_coverage_fraction`` of a band are
    reasons.
    """
    reasons: list[list[str]] = [[] for _ in range(len(objects))]

    def add(mask: np.ndarray, text: str) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(text)

    err = objects["cutout_error"].fillna("").astype(str).to_numpy()
    for i, e in enumerate(err):
        if e:
            reasons[i].append(e)
    in_store = (objects["shard"].to_numpy() >= 0) & (err == "")
    has_stats = in_store & objects["nan_frac"].notna().to_numpy()
    add(has_stats & (objects["nan_frac"].fillna(0).to_numpy() >= 1.0), "all pixels nan")
    partial_nan = has_stats & (objects["nan_frac"].fillna(0).to_numpy() > 0)
    partial_nan &= objects["nan_frac"].fillna(0).to_numpy() < 1.0
    add(partial_nan & objects["nan_in_core"].fillna(False).to_numpy(dtype=bool), "nan in core")
    add(partial_nan & ~objects["nan_in_core"].fillna(False).to_numpy(dtype=bool), "nan pixels")
    add(has_stats & (objects["inf_count"].fillna(0).to_numpy() > 0), "inf pixels")
    full_nan = objects["nan_frac"].fillna(0).to_numpy() >= 1.0
    if "zero_in_core" in objects:
        core = objects["zero_in_core"].fillna(False).to_numpy(dtype=bool)
        add(has_stats & ~full_nan & core, "no coverage in core")
    for b in BANDS:
        empty = has_stats & ~full_nan & objects[f"empty_{b}"].fillna(False).to_numpy(dtype=bool)
        add(empty, f"empty band {b}")
        if f"zero_frac_{b}" in objects:
            frac = objects[f"zero_frac_{b}"].fillna(0).to_numpy(float)
            wide = has_stats & ~empty & (frac > max_no_coverage_fraction)
            for i in np.flatnonzero(wide):
                reasons[i].append(f"no coverage in {frac[i]:.0%} of band {b}")
        add(
            has_stats & objects[f"constant_{b}"].fillna(False).to_numpy(dtype=bool),
            f"constant band {b}",
        )
    return pd.Series(["|".join(r) for r in reasons], index=objects.index, dtype=object)
