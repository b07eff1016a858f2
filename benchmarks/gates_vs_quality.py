"""Data gates against the quality pass over the same stamps.

Run: ``.venv/bin/python benchmarks/gates_vs_quality.py [n_stamps]`` (default 50000).
Prints both times and their ratio, and the cost of the gates' label-shuffle null
separately; asserts nothing. Target: the data gates take no longer than quality
(ratio <= 1). The gates reuse quality's statistics (annulus
median/MAD, core flux) and read only central crops of a stratified sample.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_throughput import BENCH, PARAMS, loaders, make_store  # noqa: E402
from stronglens_calibration.gates.data_gates import GateConfig, run_data_gates  # noqa: E402
from stronglens_calibration.pipelines.quality.nodes import measure_stamps  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(n: int = 50_000) -> None:
    from kedro.config import OmegaConfigLoader

    root = BENCH / f"store-{n}"
    objects = make_store(root, n)
    stamps = loaders(root)
    start = time.perf_counter()
    stats = measure_stamps(objects, stamps, PARAMS)
    t_quality = time.perf_counter() - start
    table = objects.merge(stats, on="object_id")
    table["cutout_ok"] = np.isfinite(table["core_flux_r"])
    table["split"] = "train"
    table["sample_weight"] = np.float32(1.0)
    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"
    ]["shortcut_gates"]
    cfg = GateConfig.from_params(params)
    start = time.perf_counter()
    report = run_data_gates(table, stamps, replace(cfg, null_permutations=0))
    t_gates = time.perf_counter() - start
    start = time.perf_counter()
    run_data_gates(table, stamps, cfg)
    t_null = time.perf_counter() - start - t_gates
    print(f"{n} stamps: quality {t_quality:.1f} s ({n / t_quality:,.0f} stamps/s, 2 workers)")
    print(
        f"data gates: {t_gates:.1f} s on {report['n_positive']} + {report['n_negative']} "
        "objects (max_per_class from parameters), statistics reused from quality"
    )
    print(f"ratio gates / quality: {t_gates / t_quality:.2f} (target <= 1)")
    print(
        f"their label-shuffle null ({cfg.null_permutations} shuffles x {cfg.null_bootstrap} "
        f"resamples): {t_null:.1f} s more; bounded by max_per_class, not by the survey's size"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
