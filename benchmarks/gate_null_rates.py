"""The data gates under the null, at the demo's size and at a survey's.

Run after ``make demo``: ``.venv/bin/python benchmarks/gate_null_rates.py [shuffles]
[survey_lenses] [survey_non_lenses]`` (defaults 100, 3000 and 30000: a few thousand lens
candidates and ten times as many matched non-lenses). Asserts nothing.

The population is one class only: the demo's gate-split non-lenses (their statistics,
matching weights and central stamps), resampled with replacement to the size asked for,
so every true class difference is zero. Pseudo-lenses (weight 1) and pseudo-non-lenses
(their matching weights) are drawn from it ``shuffles`` times, labels and weights
permuted together, and each class-comparison gate is measured as the run measures it
(the same features, folds, models, thresholds and interval; ``permutation_null.bootstrap``
resamples per shuffle, as the run's own null). Printed per gate and size: how often the
point estimate alone would fail, and how often the interval verdict is pass,
inconclusive and fail. A gate's false-fail rate is its interval verdict's fail rate.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _inputs(pool: pd.DataFrame, crops: np.ndarray, n_pos: int, n_neg: int, seed: int):
    """Gate inputs of ``n_pos`` pseudo-lenses and ``n_neg`` pseudo-non-lenses resampled
    from the one-class ``pool``."""
    from stronglens_calibration.gates.data_gates import GateInputs

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(pool), n_pos + n_neg)
    sample = pool.iloc[pick].reset_index(drop=True)
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    w = np.where(y == 1, 1.0, sample["sample_weight"].to_numpy(float))
    sample["label"] = y
    return GateInputs(sample, y, w, crops[pick])


def main() -> None:
    from kedro.config import OmegaConfigLoader

    from stronglens_calibration.datasets import StampStoreDataset
    from stronglens_calibration.gates.data_gates import gate_sample
    from stronglens_calibration.gates.null import permutation_null
    from stronglens_calibration.gates.parameters import GateConfig
    from stronglens_calibration.gates.registry import gates_of_kind
    from stronglens_calibration.stamps.reading import read_stamps

    shuffles = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    survey = (
        int(sys.argv[2]) if len(sys.argv) > 2 else 3000,
        int(sys.argv[3]) if len(sys.argv) > 3 else 30000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
            "parameters"
        ]
    cfg = GateConfig.from_params(params["shortcut_gates"])
    table = ROOT / "data/05_model_input/objects_split.parquet"
    if not table.exists():
        sys.exit(f"{table} is missing: run `make demo` first")
    objects = pd.read_parquet(table)
    stamps = StampStoreDataset(
        path=str(ROOT / "data/03_primary/stamps"),
        dataset="stronglens_calibration.datasets.NpyDataset",
        filename_suffix=".npy",
    ).load()
    sample = gate_sample(objects, cfg)
    demo = (int((sample["label"] == 1).sum()), int((sample["label"] == 0).sum()))
    pool = sample[sample["label"] == 0].reset_index(drop=True)
    half = int(np.ceil(max(cfg.radial_max_px, cfg.diagnostic_core_radius_px)))
    crops = read_stamps(pool, stamps, 2 * half + 1)
    print(
        f"population: {len(pool)} {cfg.split}-split non-lenses of the demo, resampled; "
        f"{shuffles} shuffles per gate and size, {cfg.null_bootstrap} resamples each"
    )
    for label, (n_pos, n_neg) in (("demo", demo), ("survey", survey)):
        inputs = _inputs(pool, crops, n_pos, n_neg, cfg.seed)
        print(f"\n{label}: {n_pos} pseudo-lenses, {n_neg} pseudo-non-lenses")
        print(f"  {'gate':28s} {'point fails':>11s}   interval: pass / inconclusive / fail")
        for gate in gates_of_kind("data"):
            if gate.label_measure is None:
                continue
            start = time.perf_counter()
            measure = gate.label_measure(inputs, cfg)
            threshold = cfg.thresholds[gate.name]
            value, _ = measure(inputs.y, inputs.w, cfg.null_bootstrap, cfg.seed)
            null = permutation_null(
                measure,
                inputs.y,
                inputs.w,
                gate.rule,
                threshold,
                value,
                shuffles,
                cfg.null_bootstrap,
                cfg.seed,
            )
            rates = null["verdict_rates"]
            print(
                f"  {gate.name:28s} {null['point_fail_rate']:10.0%}    "
                f"{rates['pass']:4.0%} / {rates['inconclusive']:4.0%} / {rates['fail']:4.0%}"
                f"   ({time.perf_counter() - start:.0f} s)"
            )


if __name__ == "__main__":
    main()
