"""Training throughput with the real loader from the stamp store against tensors already
in memory (same model, CPU), and inference throughput over the store.

Run: ``.venv/bin/python benchmarks/train_throughput.py [n_stamps]`` (default 3000).
Prints measured figures; asserts nothing. Target: loader / in-memory >= 0.85
with 2 DataLoader workers.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_throughput import BENCH, PARAMS, loaders, make_store  # noqa: E402
from stronglens_calibration.models.data import StampDataset, collate_skip_none  # noqa: E402
from stronglens_calibration.models.networks import build_model  # noqa: E402
from stronglens_calibration.models.preprocessing import Preprocessing  # noqa: E402
from stronglens_calibration.models.training import predict  # noqa: E402
from stronglens_calibration.pipelines.quality.nodes import measure_stamps  # noqa: E402

BATCH = 64
WORKERS = int(__import__("os").environ.get("BENCH_WORKERS", "2"))


def _step(model, opt, x, y):
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main(n: int = 3000) -> None:
    root = BENCH / f"store-{n}"
    objects = make_store(root, n)
    stamps = loaders(root)
    stats = measure_stamps(objects, stamps, PARAMS | {"n_workers": 1})
    table = objects.merge(stats, on="object_id")
    table["cutout_ok"] = np.isfinite(table["nan_frac"]) & (table["nan_frac"] == 0)
    table["split"] = "train"
    table["sample_weight"] = np.float32(1.0)
    pre = Preprocessing(clip=20.0, crop=48)
    ds = StampDataset(table, stamps, ("train",), pre, augment=True, seed=1)

    torch.manual_seed(0)
    model = build_model("compact_resnet")
    opt = torch.optim.AdamW(model.parameters())
    xs = torch.stack([torch.from_numpy(ds.stamp(i)) for i in range(len(ds))])
    ys = torch.as_tensor(ds.labels)

    def with_loader() -> float:
        loader = DataLoader(
            ds,
            batch_size=BATCH,
            shuffle=True,
            num_workers=WORKERS,
            collate_fn=collate_skip_none,
            persistent_workers=False,
        )
        start, seen = time.perf_counter(), 0
        for x, y, _, _ in loader:
            _step(model, opt, x, y)
            seen += len(y)
        return seen / (time.perf_counter() - start)

    def in_memory() -> float:
        start = time.perf_counter()
        for i in range(0, len(xs), BATCH):
            _step(model, opt, xs[i : i + BATCH], ys[i : i + BATCH])
        return len(xs) / (time.perf_counter() - start)

    in_memory()  # warm-up
    # alternate the two, best of three each: the machine is shared and noisy
    runs = [(with_loader(), in_memory()) for _ in range(3)]
    t_loader = max(r[0] for r in runs)
    t_memory = max(r[1] for r in runs)

    infer = StampDataset(table, stamps, ("train",), pre)
    start = time.perf_counter()
    p, _, _ = predict(model, infer, 256, torch.device("cpu"), num_workers=2)
    t_infer = len(p) / (time.perf_counter() - start)
    print(
        f"{len(ds)} stamps, compact_resnet on 48 x 48 crops, batch {BATCH}, CPU "
        f"({torch.get_num_threads()} threads)"
    )
    print(
        f"training, real loader (memory-mapped store, {WORKERS} workers, augmentation): "
        f"{t_loader:,.0f} stamps/s"
    )
    print(f"training, tensors in memory: {t_memory:,.0f} stamps/s")
    print(f"ratio loader / in memory: {t_loader / t_memory:.2f} (target >= 0.85)")
    print(f"inference over the store (2 workers): {t_infer:,.0f} stamps/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
