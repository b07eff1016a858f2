"""Seeded synthetic stamp stores for tests, benchmarks and examples.

A synthetic store is what ingest writes and quality completes: float32 ``(n, 3, H, W)``
``.npy`` shards (g, r, z, nanomaggies per pixel) and an object table whose ``shard`` and
``offset`` point into them, with the quality statistics the later pipelines read. The
stamps are smooth galaxies plus DR10-level sky noise; callers plant what they test (a
ring, a brighter core, NaN) with ``plant``. Kedro-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.store import shard_name

#: DR10 sky noise per band (g, r, z), nanomaggies per pixel.
DR10_SKY_SIGMA: tuple[float, float, float] = (0.0018, 0.0026, 0.0083)


def galaxy_profile(size: int, kind: str = "exponential", scale_px: float = 4.0) -> np.ndarray:
    """A round galaxy of unit peak (``exponential``) or unit flux (``devaucouleurs``).

    Parameters
    ----------
    size : int
        Odd stamp side in pixels.
    kind : str
        ``exponential``: ``exp(-r / scale)``; ``devaucouleurs``: the r^(1/4) law with
        half-light radius ``scale``, normalised to unit sum.
    scale_px : float
        Scale length or half-light radius in pixels.

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size)``.
    """
    r = radius_map(size)
    if kind == "exponential":
        return np.exp(-r / scale_px).astype(np.float32)
    if kind == "devaucouleurs":
        image = np.exp(-7.67 * ((r / scale_px) ** 0.25 - 1)).astype(np.float32)
        return image / image.sum()
    raise ValueError(f"'kind' must be 'exponential' or 'devaucouleurs', got {kind!r}")


def sky_noise(
    rng: np.random.Generator, shape: tuple[int, ...], sigma: tuple[float, ...] = DR10_SKY_SIGMA
) -> np.ndarray:
    """White Gaussian noise of ``sigma`` per band; ``shape`` is ``(n, 3, H, W)``."""
    scale = np.asarray(sigma, dtype=np.float32)[None, :, None, None]
    return rng.normal(0, 1, shape).astype(np.float32) * scale


def synthetic_store(
    root: Path,
    n: int,
    *,
    size: int = 101,
    seed: int = 0,
    shard_size: int | None = None,
    profile: str = "exponential",
    scale_px: float = 4.0,
    psf_sigma_px: float | None = None,
    flux: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0),
    noise_sigma: tuple[float, float, float] = DR10_SKY_SIGMA,
    labels: np.ndarray | None = None,
    splits: Mapping[str, float] | None = None,
    plant: Callable[[np.ndarray, np.ndarray, np.random.Generator], None] | None = None,
    statistics: tuple[float, tuple[float, float]] | None = (1.5, (32.0, 45.0)),
    reuse: bool = False,
) -> tuple[pd.DataFrame, dict[str, Callable[[], np.ndarray]]]:
    """A complete synthetic store and its object table, written shard by shard (memory
    bounded by one shard whatever ``n``).

    Parameters
    ----------
    root : pathlib.Path
        Folder of the shards.
    n : int
        Number of objects.
    size, seed, shard_size : int
        Stamp side (odd), seed of every draw, stamps per shard (all in one by default).
    profile, scale_px :
        The galaxy (:func:`galaxy_profile`).
    psf_sigma_px : float, optional
        Convolve the galaxy with a round Gaussian PSF of this sigma (pixels; a DR10
        r-band FWHM of 1.3" is 2.1 px) before the noise is added; unconvolved by default.
    flux : callable, optional
        ``flux(rng, m)`` gives the galaxies' scale factors, ``(m,)`` or per band
        ``(m, 3)``; lognormal(0.5, 0.3) by default.
    colour : tuple of float
        Relative brightness in g, r, z.
    noise_sigma : tuple of float
        Sky noise per band, nanomaggies per pixel.
    labels : numpy.ndarray, optional
        int8 ``(n,)``; every third object a lens by default.
    splits : Mapping, optional
        Split name to fraction, assigned in index order (all ``train`` by default).
    plant : callable, optional
        ``plant(stamps, is_lens, rng)`` edits a shard's stamps in place before writing.
    statistics : tuple, optional
        ``(core_radius_px, annulus_px)`` of the quality statistics added to the table;
        ``None`` for none.
    reuse : bool
        Keep shards already on disk with the right shape (benchmarks rerun quickly).

    Returns
    -------
    objects : pandas.DataFrame
        ``object_id``, ``shard``, ``offset``, ``ra``, ``dec`` (deg), ``label``, ``tier``,
        ``split``, ``region_holdout`` (False: no region held out), ``cutout_ok``,
        ``cutout_error``, ``sample_weight`` and the statistics.
    loaders : dict
        Shard name to loader (memory-mapped).
    """
    rng = np.random.default_rng(seed)
    label = (np.arange(n) % 3 == 0).astype(np.int8) if labels is None else np.asarray(labels)
    galaxy = galaxy_profile(size, profile, scale_px)
    if psf_sigma_px is not None:
        from scipy.ndimage import gaussian_filter

        if not psf_sigma_px > 0:
            raise ValueError(f"'psf_sigma_px' must be positive, got {psf_sigma_px}")
        galaxy = gaussian_filter(galaxy, psf_sigma_px, mode="constant").astype(np.float32)
    bands = np.asarray(colour, dtype=np.float64)[None, :, None, None]
    per_shard = shard_size or max(n, 1)
    root.mkdir(parents=True, exist_ok=True)
    loaders: dict[str, Callable[[], np.ndarray]] = {}
    stats = []
    for s, start in enumerate(range(0, n, per_shard)):
        m = min(per_shard, n - start)
        path = root / f"{shard_name(s)}.npy"
        if reuse and path.exists() and np.load(path, mmap_mode="r").shape == (m, 3, size, size):
            block = np.load(path, mmap_mode="r")
        else:
            scale = rng.lognormal(0.5, 0.3, m) if flux is None else flux(rng, m)
            scale = np.asarray(scale, dtype=np.float64).reshape(m, -1)[:, :, None, None]
            block = (scale * bands * galaxy).astype(np.float32)
            block += sky_noise(rng, block.shape, noise_sigma)
            if plant is not None:
                plant(block, label[start : start + m] == 1, rng)
            np.save(path, block, allow_pickle=False)
        loaders[shard_name(s)] = lambda p=path: np.load(p, mmap_mode="r", allow_pickle=False)
        if statistics is not None:
            from stronglens_calibration.stamps.statistics import stamp_statistics

            stats.append(pd.DataFrame(stamp_statistics(np.asarray(block), *statistics)))
    for extra in sorted(root.glob("part-*.npy"))[len(loaders) :]:
        extra.unlink()
    idx = np.arange(n)
    split = np.full(n, "train", dtype=object)
    if splits:
        edges = np.cumsum([0.0, *splits.values()]) * n
        for name, lo, hi in zip(splits, edges[:-1], edges[1:], strict=True):
            split[int(round(lo)) : int(round(hi))] = name
    objects = pd.DataFrame(
        {
            "object_id": [f"o{i}" for i in idx],
            "shard": (idx // per_shard).astype(np.int32),
            "offset": (idx % per_shard).astype(np.int32),
            "ra": idx * 1e-3,
            "dec": np.zeros(n),
            "label": label.astype(np.int8),
            "tier": np.where(label == 1, "A", ""),
            "split": split,
            "region_holdout": False,
            "cutout_ok": True,
            "cutout_error": "",
            "sample_weight": np.float32(1.0),
        }
    )
    if stats:
        objects = pd.concat([objects, pd.concat(stats, ignore_index=True)], axis=1)
    return objects, loaders
