"""ingest: NPZ cutouts into the stamp store, against a bare ``np.load`` loop.

Run: ``.venv/bin/python benchmarks/ingest_npz.py [n_files]`` (default 4000). Prints the
measured ratio; asserts nothing. Target: at least 0.8 of the bare loop's
throughput, and able to use both cores.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

from stronglens_calibration.datasets import BinaryFileDataset, NpyDataset
from stronglens_calibration.pipelines.ingest.nodes import read_cutouts
from stronglens_calibration.stamps.formats import encode_npz_bands, encode_npz_cutout
from stronglens_calibration.stamps.generations import new_store_id

BENCH = Path(os.environ.get("BENCH_DIR", "/tmp/stronglens-bench"))
#: The project's ingest parameters (conf/base), as `kedro run` resolves them.
INGEST = dict(
    OmegaConfigLoader(
        str(Path(__file__).resolve().parents[1] / "conf"), base_env="base", default_run_env="base"
    )["parameters"]["ingest"]
)


def make_files(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        path = root / f"cutout_{i:06d}.npz"
        paths.append(path)
        if path.exists():
            continue
        stamp = rng.normal(0, 0.003, (3, 101, 101)).astype(np.float32)
        data = encode_npz_bands(stamp, "grz") if i % 2 else encode_npz_cutout(stamp, "grz", {})
        path.write_bytes(data)
    return paths


def bare_loop(paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        with np.load(p, allow_pickle=False) as z:
            for k in z.files:
                z[k]
    return len(paths) / (time.perf_counter() - start)


def ingest(paths: list[Path], workers: int, out: Path) -> float:
    plan = pd.DataFrame(
        {
            "object_id": [p.stem for p in paths],
            "cutout_file": [p.name for p in paths],
            "cutout_row": -1,
            "cutout_origin": "file",
            "ra": np.nan,  # no position to compare the files' headers with
            "dec": np.nan,
            "shard": np.arange(len(paths)) // 512,
            "offset": np.arange(len(paths)) % 512,
            "stamp_store": new_store_id(),
        }
    )
    raw = {p.name: BinaryFileDataset(str(p)).load for p in paths}
    params = copy.deepcopy(INGEST)
    params["engine"] = "pandas"
    params["cutouts"]["n_workers"] = workers
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for stamps, _ in read_cutouts(plan, raw, None, params):  # no coadd bricks
        for name, array in stamps.items():
            NpyDataset(str(out / f"{name}.npy")).save(array)
    return len(paths) / (time.perf_counter() - start)


def main(n: int = 4000) -> None:
    paths = make_files(BENCH / "npz", n)
    bare_loop(paths)  # warm the page cache
    bare = bare_loop(paths)
    one = ingest(paths, 1, BENCH / "npz-store")
    two = ingest(paths, 2, BENCH / "npz-store")
    print(f"{n} NPZ cutouts (both layouts, compressed), page-cached")
    print(f"bare np.load loop (1 process): {bare:,.0f} files/s")
    print(f"ingest into the store, 1 worker: {one:,.0f} stamps/s = {one / bare:.2f} of the loop")
    print(
        f"ingest into the store, 2 workers: {two:,.0f} stamps/s = {two / bare:.2f} of the loop "
        "(target >= 0.8)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
