"""scan: objects per second end to end, against the bare forward pass, and peak memory.

Run: ``.venv/bin/python benchmarks/scan_throughput.py [n_objects] [rss_objects]``
(defaults 4096 and 200000; stores go to ``$BENCH_DIR`` or /tmp/stronglens-bench).
Prints measured figures; asserts nothing.

Store and forward figures are medians of 5 rounds, as are the ratios; inside a round
the two alternate shard by shard (each 512-object shard scanned from the store, then as
many objects through the bare forward pass), so that a slow second on a shared machine
slows both alike. Settings are the scan's defaults (``conf/base/parameters_scan.yml``):
batches of 128, the statistics shared by the machine's cores, freed blocks up to
1024 MiB kept for reuse. Each figure is measured in fresh processes: with that allocator
setting (what the scan runs with) and with glibc's default, so its effect is measured
too; on an AMD Zen 4 processor also with numpy's AVX-512 sorts turned off
(``stronglens_calibration.sort_dispatch``), the setting the scan advises there.

- from the stamp store: what scanning costs once stamps are on disk (read the shard,
  quality statistics and rules, preprocessing, the network), per object;
- from coadd bricks: the same with each stamp cut from a brick image (fpack, WCS);
- the bare forward pass of the same network on preprocessed tensors already in memory.

Targets: store / forward >= 0.8; peak RSS while scanning 200,000 objects under 1.5 GB,
independent of the count (the objects point into a smaller store, read again and again,
so the disk holds only that). Projections for 40 million galaxies use the store figure
on this machine and, where CUDA is present, the forward pass on the GPU.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stronglens_calibration.allocator import retain_freed_memory
from stronglens_calibration.models.networks import build_model
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.scan.scoring import ScoringSettings, logits_of_stamps
from stronglens_calibration.sort_dispatch import slow_sort_targets_here
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.synthetic import synthetic_store

BENCH = Path(os.environ.get("BENCH_DIR", "/tmp/stronglens-bench"))
SETTINGS = ScoringSettings(
    101, 1.5, (32.0, 45.0), 5.0, 3, 0.25, 128, 1e-3, threads=max(1, min(os.cpu_count() or 1, 8))
)
RETAIN_MIB = 1024
ROUNDS = 5
SHARD = 512
STORE_OBJECTS = 8192
SURVEY = 40_000_000


def _model():
    torch.manual_seed(0)
    return build_model("compact_resnet").eval(), Preprocessing(clip=20.0, crop=48)


def _store(root: Path, n: int):
    objects, loaders = synthetic_store(
        root, n, shard_size=SHARD, statistics=None, reuse=True, noise_sigma=(0.003,) * 3
    )
    return objects, loaders


def _shards(objects: pd.DataFrame, n: int):
    """The store's shard numbers in order, again and again, until ``n`` objects."""
    sizes = objects["shard"].value_counts().sort_index()
    done = 0
    while True:
        for shard, size in sizes.items():
            yield shard
            done += int(size)
            if done >= n:
                return


def _scan_shard(objects: pd.DataFrame, shard: int, loaders: dict, model, pre, device) -> int:
    """One shard as the scan scores it (opened, read, checked, scored, released)."""
    rows = objects[objects["shard"] == shard]
    stamps = read_stamps(rows, loaders)
    logits_of_stamps(stamps, np.full(len(rows), "", dtype=object), model, pre, SETTINGS, device)
    return len(rows)


def _forward(model, x: torch.Tensor, n: int) -> int:
    """At least ``n`` objects through the network alone, in whole batches of ``x``
    (preprocessed stamps already in memory, ``(batch, 3, 48, 48)``); the count done."""
    done = 0
    with torch.no_grad():
        while done < n:
            model(x)
            done += len(x)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return done


def scan_from_store(objects: pd.DataFrame, loaders: dict, n: int, model, pre, device) -> float:
    """Objects per second: shard by shard, as the scan scores them (so memory holds one
    shard)."""
    start = time.perf_counter()
    done = sum(_scan_shard(objects, s, loaders, model, pre, device) for s in _shards(objects, n))
    return done / (time.perf_counter() - start)


def paired_rates(
    objects: pd.DataFrame, loaders: dict, n: int, model, pre, device
) -> tuple[float, float]:
    """Objects per second from the store and of the bare forward pass, in turns: each
    shard is scanned as the scan scores it, then the same number of objects (whole
    batches) goes through the network alone."""
    x = torch.randn(SETTINGS.batch_size, 3, 48, 48, device=device)
    store_s = forward_s = 0.0
    done = forwarded = 0
    for shard in _shards(objects, n):
        start = time.perf_counter()
        count = _scan_shard(objects, shard, loaders, model, pre, device)
        store_s += time.perf_counter() - start
        start = time.perf_counter()
        forwarded += _forward(model, x, count)
        forward_s += time.perf_counter() - start
        done += count
    return done / store_s, forwarded / forward_s


def forward_only(n: int, model, device) -> float:
    """Objects per second of the network alone on preprocessed tensors in memory."""
    x = torch.randn(SETTINGS.batch_size, 3, 48, 48, device=device)
    _forward(model.to(device), x, 1)  # warm up
    start = time.perf_counter()
    done = _forward(model, x, n)
    return done / (time.perf_counter() - start)


def scan_from_bricks(n: int, model, pre, device) -> float:
    """Objects per second with stamps cut from fpack brick images (one brick)."""
    from astropy.io import fits
    from astropy.wcs import WCS

    from stronglens_calibration.scan.scoring import shard_logits
    from stronglens_calibration.stamps.shard_reader import CutoutSources

    size = 1200
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [size / 2 + 0.5, size / 2 + 0.5]
    wcs.wcs.cd = [[-0.262 / 3600, 0], [0, 0.262 / 3600]]
    rng = np.random.default_rng(0)
    images = {}
    for band in "grz":
        image = rng.normal(0, 0.003, (size, size)).astype(np.float32)
        comp = fits.CompImageHDU(image, header=wcs.to_header(), compression_type="RICE_1")
        buf = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(), comp]).writeto(buf)
        images[band] = buf.getvalue()
    pix = rng.uniform(60, size - 60, (min(n, 1024), 2))
    ra, dec = wcs.pixel_to_world_values(pix[:, 0], pix[:, 1])
    rows = pd.DataFrame(
        {
            "ra": ra,
            "dec": dec,
            "cutout_file": "brick:1500p020",
            "cutout_row": -1,
            "cutout_origin": "brick",
            "cutout_error": "",
            "brickname": "1500p020",
        }
    )

    def bricks(brick: str, band: str):
        return io.BytesIO(images[band])

    sources = CutoutSources({}, "npz")
    start = time.perf_counter()
    done = 0
    while done < n:
        shard_logits(rows, sources, bricks, model, pre, SETTINGS, device)
        done += len(rows)
    return done / (time.perf_counter() - start)


def rss_child(n: int) -> None:
    """Scan ``n`` objects (pointing into the benchmark store) and print the peak RSS."""
    import resource

    retain_freed_memory(RETAIN_MIB)
    model, pre = _model()
    objects, loaders = _store(BENCH / "scan-store", STORE_OBJECTS)
    scan_from_store(objects, loaders, n, model, pre, torch.device("cpu"))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = next((int(s.split()[1]) for s in status if s.startswith("VmHWM")), peak_kib)
    print(json.dumps({"n": n, "peak_rss_mib": hwm / 1024}))


def rates_child(n: int, retain_mib: int) -> None:
    """Objects per second from the store, from bricks and of the bare forward pass, with
    freed blocks up to ``retain_mib`` MiB kept (0: glibc's default); printed as JSON."""
    retained = retain_freed_memory(retain_mib)
    torch.set_num_threads(os.cpu_count() or 1)
    cpu = torch.device("cpu")
    model, pre = _model()
    objects, loaders = _store(BENCH / "scan-store", STORE_OBJECTS)
    scan_from_store(objects, loaders, 512, model, pre, cpu)  # warm the page cache
    forward_only(512, model, cpu)  # warm the network
    store, forward = [], []
    for _ in range(ROUNDS):
        s, f = paired_rates(objects, loaders, n, model, pre, cpu)
        store.append(s)
        forward.append(f)
    out = {
        "retained": retained,
        "store": float(np.median(store)),
        "forward": float(np.median(forward)),
        "ratios": [a / b for a, b in zip(store, forward, strict=True)],
        "bricks": scan_from_bricks(min(n, 2048), model, pre, cpu),
    }
    print(json.dumps(out))


def _child(*args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else os.environ | env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _configurations() -> list[tuple[str, int, dict[str, str] | None]]:
    """(label, allocator setting, extra environment) of each measured configuration."""
    configs = [
        ("freed blocks kept (scan default)", RETAIN_MIB, None),
        ("glibc default", 0, None),
    ]
    slow = slow_sort_targets_here()
    where = f"AVX-512 ({' '.join(slow)}) on AMD Zen 4, where they are slow"
    print("numpy sorts: " + (where if slow else "as numpy chose them"))
    if slow:
        configs.append(
            (
                "freed blocks kept, numpy's AVX-512 sorts off (the scan's advice here)",
                RETAIN_MIB,
                {"NPY_DISABLE_CPU_FEATURES": " ".join(slow)},
            )
        )
    return configs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
    n_rss = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    _store(BENCH / "scan-store", STORE_OBJECTS)  # written once, before the timed children
    print(f"{n} objects, {os.cpu_count()} cores, statistics on {SETTINGS.threads} threads")
    rates = []
    for label, retain, env in _configurations():
        r = _child("--rates", str(n), str(retain), env=env)
        rates.append((label, r))
        missing = retain and not r["retained"]
        print(f"{label}" + (" - freed blocks not kept here: glibc default" if missing else ""))
        print(f"  scan from the stamp store: {r['store']:8.0f} objects/s")
        print(f"  scan from coadd bricks:    {r['bricks']:8.0f} objects/s")
        print(f"  bare forward pass (CPU):   {r['forward']:8.0f} objects/s")
        ratios = ", ".join(f"{x:.2f}" for x in r["ratios"])
        print(
            f"  store / forward: {np.median(r['ratios']):.2f} median of {ROUNDS} rounds "
            f"({ratios}) (target >= 0.8)"
        )
    for label, r in rates:
        if label.startswith("glibc"):
            continue
        hours = SURVEY / r["store"] / 3600
        print(f"40 million galaxies on this machine, {label}: {hours:.1f} h")
    if torch.cuda.is_available():
        model, _ = _model()
        gpu = forward_only(50 * SETTINGS.batch_size, model, torch.device("cuda"))
        print(f"bare forward pass (GPU):   {gpu:8.0f} objects/s")
        print(
            f"40 million galaxies, network on one GPU: {SURVEY / gpu / 3600:.2f} h "
            "(the stamps must then be read and prepared at that rate too)"
        )
    else:
        print("no CUDA device here: the one-GPU projection needs the forward pass measured on one")
    for count in (n_rss // 10, n_rss):
        r = _child("--rss", str(count))
        print(f"peak RSS scanning {r['n']:>7} objects: {r['peak_rss_mib']:.0f} MiB (target < 1536)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rss":
        rss_child(int(sys.argv[2]))
    elif len(sys.argv) > 3 and sys.argv[1] == "--rates":
        rates_child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
