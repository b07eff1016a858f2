"""A synthetic stamp store for the benchmarks (galaxy + noise + a few NaN), written once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stronglens_calibration.stamps.store import shard_name

SIZE = 101


def make_store(root: Path, n_stamps: int, shard_size: int = 512, seed: int = 0) -> pd.DataFrame:
    """Write ``n_stamps`` float32 (3, 101, 101) stamps as .npy shards under ``root``.

    Returns the object table (``object_id``, ``shard``, ``offset``, ...). Reuses an
    existing store of the same size.
    """
    root.mkdir(parents=True, exist_ok=True)
    n_shards = (n_stamps + shard_size - 1) // shard_size
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((SIZE, SIZE)) - SIZE // 2
    galaxy = np.exp(-np.hypot(yy, xx) / 4.0).astype(np.float32)
    for s in range(n_shards):
        path = root / f"{shard_name(s)}.npy"
        n = min(shard_size, n_stamps - s * shard_size)
        if path.exists() and np.load(path, mmap_mode="r").shape[0] == n:
            continue
        block = rng.normal(0, 0.003, (n, 3, SIZE, SIZE)).astype(np.float32)
        block += galaxy * rng.uniform(0.05, 0.5, (n, 3, 1, 1)).astype(np.float32)
        bad = rng.random(n) < 0.01
        block[bad, 1, :5, :5] = np.nan
        np.save(path, block, allow_pickle=False)
    for extra in sorted(root.glob("part-*.npy"))[n_shards:]:
        extra.unlink()
    idx = np.arange(n_stamps)
    return pd.DataFrame(
        {
            "object_id": [f"o{i}" for i in idx],
            "ra": idx * 1e-3,
            "dec": np.zeros(n_stamps),
            "label": (idx % 2).astype(np.int8),
            "tier": "",
            "cutout_error": "",
            "shard": (idx // shard_size).astype(np.int32),
            "offset": (idx % shard_size).astype(np.int32),
        }
    )
