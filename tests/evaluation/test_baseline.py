"""The ring-statistics baseline: it finds a ring the classes differ by, is at chance on
a null store, and is compared with the CNN on the same test objects, paired."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.evaluation.baseline import (
    BaselineConfig,
    compare_with_baseline,
    fit_ring_baseline,
    ring_statistics,
)
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stats import weighted_auc
from stronglens_calibration.synthetic import synthetic_store

SIZE = 91
CFG = BaselineConfig((0.0, 1.5, 3.0, 5.0, 8.0, 12.0, 17.0, 26.0), 60, 0.1, 7, 0)
SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _store(tmp_path, plant=None):
    rng = np.random.default_rng(1)
    labels = (rng.random(600) < 0.4).astype(np.int8)
    return synthetic_store(tmp_path, 600, size=SIZE, labels=labels, splits=SPLITS, plant=plant)


def test_ring_statistics_are_normalised_means_and_scatters():
    stamps = np.zeros((1, 3, SIZE, SIZE), np.float32)
    r = radius_map(SIZE)
    stamps[0, 1][(r >= 3) & (r < 5)] = 2.0
    median, mad = np.full((1, 3), 1.0), np.full((1, 3), 0.5)
    features, names = ring_statistics(stamps, median, mad, (0.0, 3.0, 5.0))
    value = dict(zip(names, features[0], strict=True))
    assert value["mean_r_3-5"] == pytest.approx((2.0 - 1.0) / 0.5)
    assert value["mean_g_3-5"] == pytest.approx(-2.0)
    assert value["std_r_3-5"] == pytest.approx(0.0)


def test_the_baseline_finds_a_ring_and_is_at_chance_without_one(tmp_path):
    def ring(stamps, pos, rng):
        r = radius_map(SIZE)
        block = stamps[pos]
        block[:, :, (r >= 6) & (r < 9)] += 0.008  # 3 sky sigma in r, in a ring
        stamps[pos] = block

    objects, stamps = _store(tmp_path / "ring", ring)
    scores = fit_ring_baseline(objects, stamps, CFG)
    test = scores[scores["split"] == "test"]
    assert set(scores["split"]) == {"val", "test"}
    assert weighted_auc(test["label"], test["score"], np.ones(len(test))) > 0.9
    objects, stamps = _store(tmp_path / "null")
    null = fit_ring_baseline(objects, stamps, CFG)
    test = null[null["split"] == "test"]
    assert abs(weighted_auc(test["label"], test["score"], np.ones(len(test))) - 0.5) < 0.12


def test_the_comparison_is_paired_and_says_which_model_wins():
    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    ids = [f"o{i}" for i in range(n)]
    good = y * 3.0 + rng.normal(0, 1, n)  # the "CNN": well separated
    weak = y * 0.5 + rng.normal(0, 1, n)  # the "baseline": barely
    candidates = pd.DataFrame(
        {"object_id": ids, "label": y, "logit": good, "scored": True,
         "selected_fpr_1e-2": good > np.quantile(good[y == 0], 0.99)}
    )  # fmt: skip
    val_y = (rng.random(n) < 0.3).astype(int)
    baseline = pd.concat(
        [
            pd.DataFrame({"object_id": ids, "split": "test", "label": y, "score": weak}),
            pd.DataFrame(
                {
                    "object_id": [f"v{i}" for i in range(n)],
                    "split": "val",
                    "label": val_y,
                    "score": val_y * 0.5 + rng.normal(0, 1, n),
                }
            ),  # fmt: skip
        ]
    ).assign(best_iteration=10)
    out = compare_with_baseline(candidates, baseline, 1e-2, 200, 0)
    assert out["n_test"] == n
    assert out["auc_difference_ci_low"] > 0 and out["cnn_auc"] > out["baseline_auc"]
    assert out["tpr_difference"] > 0
    assert out["verdict"].startswith("The CNN beats")
    same = compare_with_baseline(
        candidates, baseline.assign(score=np.r_[good, baseline["score"].to_numpy()[n:]]),
        1e-2, 200, 0,
    )  # fmt: skip
    # the same scores: the paired AUC difference is exactly zero in every resample
    assert same["auc_difference"] == 0
    assert same["auc_difference_ci_low"] == same["auc_difference_ci_high"] == 0
    with pytest.raises(ValueError, match="fpr_targets"):
        compare_with_baseline(candidates, baseline, 1e-3, 50, 0)
