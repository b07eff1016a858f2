"""Mock survey rendering throughput: stamps per second, one process and the worker pool.

Run: ``.venv/bin/python benchmarks/mock_render.py [n_stamps]``. Prints measured figures,
asserts nothing (machines are shared and noisy).
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

from kedro.config import OmegaConfigLoader

from stronglens_calibration.mock.batch import lazy_cutout_files
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue

ROOT = Path(__file__).resolve().parents[1]


def main(n_stamps: int = 400) -> None:
    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"
    ]["mock_survey"]
    lenscat = read_lenscat_package_catalogue()
    results = {}
    for workers in (1, 2):
        p = copy.deepcopy(params)
        p.update(n_positives=max(1, n_stamps // 5), negatives_per_positive=4.0, n_workers=workers)
        cfg = MockSurveyConfig.from_params(p)
        truth = draw_population(lenscat, cfg)
        records = truth[truth["file_format"] != ""].to_dict("records")
        files = lazy_cutout_files(records, cfg)
        start = time.perf_counter()
        total = sum(len(load()) for load in files.values())
        elapsed = time.perf_counter() - start
        results[workers] = len(files) / elapsed
        lenses = sum(r["kind"] == "lens" for r in records)
        print(
            f"workers={workers}: {len(files)} stamps ({lenses} lenses) in {elapsed:.1f} s "
            f"= {results[workers]:.1f} stamps/s, {total / 2**20:.0f} MiB written"
        )
    print(f"parallel speed-up (2 workers / 1): {results[2] / results[1]:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
