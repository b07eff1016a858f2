"""quality: throughput against the naive per-stamp ``np.nanmedian`` loop, and peak memory.

Run: ``.venv/bin/python benchmarks/quality_throughput.py [n_stamps] [rss_stamps]``
(defaults 20000 and 40000; the stores go to ``$BENCH_DIR`` or /tmp/stronglens-bench).
Prints measured figures; asserts nothing.

Targets: quality >= 3x the naive loop computing the same statistics; peak RSS
over 40,000 stamps (4.9 GB of pixels) under 1.5 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from stronglens_calibration.datasets import NpyDataset
from stronglens_calibration.pipelines.quality.nodes import measure_stamps
from stronglens_calibration.stamps.geometry import annulus_mask, core_mask
from stronglens_calibration.synthetic import synthetic_store

BENCH = Path(os.environ.get("BENCH_DIR", "/tmp/stronglens-bench"))
PARAMS = {
    "stamp_size": 101,
    "core_radius_px": 2.5,
    "annulus_px": [32.0, 45.0],
    "batch_size": 256,
    "n_workers": 2,
    "engine": "pandas",
    "no_coverage": {"core_radius_px": 5.0, "min_run_px": 3, "max_fraction": 0.25},
}


def make_store(root: Path, n_stamps: int, shard_size: int = 512, seed: int = 0):
    """The benchmarks' store: galaxies of random brightness per band, sky noise, 1 % of
    stamps with a NaN patch; kept on disk between runs (:func:`synthetic_store`)."""

    def nan_patch(stamps: np.ndarray, is_lens: np.ndarray, rng: np.random.Generator) -> None:
        stamps[rng.random(len(stamps)) < 0.01, 1, :5, :5] = np.nan

    objects, _ = synthetic_store(
        root,
        n_stamps,
        seed=seed,
        shard_size=shard_size,
        flux=lambda rng, m: rng.uniform(0.05, 0.5, (m, 3)),
        noise_sigma=(0.003, 0.003, 0.003),
        labels=(np.arange(n_stamps) % 2).astype(np.int8),
        plant=nan_patch,
        statistics=None,
        reuse=True,
    )
    return objects


def loaders(root: Path) -> dict:
    return {p.stem: NpyDataset(str(p)).load for p in sorted(root.glob("part-*.npy"))}


def naive(root: Path, objects, n: int) -> float:
    """Per-stamp loop with np.nanmedian: the same statistics, the obvious way."""
    core, ring = core_mask(101, 2.5), annulus_mask(101, 32.0, 45.0)
    shards = {p.stem: np.load(p, mmap_mode="r") for p in sorted(root.glob("part-*.npy"))}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for row in objects.head(n).itertuples():
            x = np.asarray(shards[f"part-{row.shard:05d}"][row.offset])
            np.isnan(x).sum(axis=(1, 2))
            np.isinf(x).sum()
            x[:, core].sum(axis=1)
            for b in range(3):
                a = x[b][ring]
                med = np.nanmedian(a)
                np.nanmedian(np.abs(a - med))
                np.all(x[b] == 0)
                _ = np.nanmax(x[b]) == np.nanmin(x[b])
    return n / (time.perf_counter() - start)


def read_limit(root: Path, objects, n: int) -> float:
    shards = {p.stem: np.load(p, mmap_mode="r") for p in sorted(root.glob("part-*.npy"))}
    start = time.perf_counter()
    for shard, rows in objects.head(n).groupby("shard"):
        np.isfinite(np.asarray(shards[f"part-{shard:05d}"][: len(rows)])).all()
    return n / (time.perf_counter() - start)


def rss_child(n: int) -> None:
    """Run quality over n stamps; print peak RSS of this process and of its workers."""
    import resource

    root = BENCH / f"store-{n}"
    objects = make_store(root, n)
    measure_stamps(objects, loaders(root), PARAMS)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    status = Path("/proc/self/status").read_text().splitlines()
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"main_mib": own, "worker_mib": workers}))


def main(n: int = 20_000, n_rss: int = 40_000) -> None:
    root = BENCH / f"store-{n}"
    objects = make_store(root, n)
    read_limit(root, objects, n)  # warm the page cache
    limit = read_limit(root, objects, n)
    start = time.perf_counter()
    measure_stamps(objects, loaders(root), PARAMS)
    fast = n / (time.perf_counter() - start)
    slow = naive(root, objects, min(n, 3000))
    print(f"stamps: {n} float32 (3, 101, 101), page-cached")
    print(f"read limit (np.isfinite(x).all(), 1 core): {limit:,.0f} stamps/s")
    print(f"naive per-stamp np.nanmedian loop (1 core): {slow:,.0f} stamps/s")
    print(f"quality (vectorised batches, {PARAMS['n_workers']} workers): {fast:,.0f} stamps/s")
    print(f"ratio quality / naive: {fast / slow:.2f}x (target >= 3)")
    print(f"fraction of the read limit: {fast / limit:.2f}")
    make_store(BENCH / f"store-{n_rss}", n_rss)  # written here, so the child only reads
    out = subprocess.run(
        [sys.executable, __file__, "--rss", str(n_rss)], capture_output=True, text=True, check=True
    )
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"peak RSS over {n_rss} stamps ({n_rss * 3 * 101 * 101 * 4 / 1e9:.1f} GB of pixels): "
        f"main {rss['main_mib']:.0f} MiB, largest worker {rss['worker_mib']:.0f} MiB "
        f"(target < 1536 MiB each)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rss":
        rss_child(int(sys.argv[2]))
    else:
        main(*(int(a) for a in sys.argv[1:3]))
