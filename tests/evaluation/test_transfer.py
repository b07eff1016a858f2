"""Transfer to unseen sky regions: a planted loss in the held-out regions is found, equal
parts are not told apart, and a test split without held-out regions says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.evaluation.transfer import region_transfer

OPS = {"p_gt_0.5": {"threshold_logit": 0.0}, "fpr_1e-2": {"threshold_logit": 2.3}}


def _scores(n: int, separation_held: float, separation_fine: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    held = rng.random(n) < 0.5
    label = (rng.random(n) < 0.3).astype(np.int8)
    separation = np.where(held, separation_held, separation_fine)
    return pd.DataFrame(
        {
            "label": label,
            "tier": np.where(label == 1, rng.choice(["A", "B"], n), ""),
            "logit": rng.standard_normal(n) + label * separation - 1.0,
            "scored": True,
            "region_holdout": held,
        }
    )


def test_a_planted_loss_in_the_held_out_regions_is_found():
    out = region_transfer(_scores(3000, 1.0, 3.0), OPS, ("A", "B"), 300, 1)
    assert out["available"]
    assert out["auc_difference_ci_high"] < 0
    assert out["held_out_regions"]["auc"] < out["fine_pixels"]["auc"]
    tpr = {
        p: out[p]["operating_points"]["p_gt_0.5"]["tpr"]["value"]
        for p in ("held_out_regions", "fine_pixels")
    }
    assert tpr["held_out_regions"] < tpr["fine_pixels"]
    assert "score lower" in out["verdict"]
    assert out["permutation_p"] < 0.01
    n = sum(
        out[p]["n_positive"] + out[p]["n_negative"] for p in ("held_out_regions", "fine_pixels")
    )
    assert n == 3000


def test_equal_parts_are_not_told_apart():
    out = region_transfer(_scores(3000, 2.0, 2.0, seed=3), OPS, ("A", "B"), 300, 1)
    assert out["auc_difference_ci_low"] < 0 < out["auc_difference_ci_high"]
    assert out["held_out_regions"]["auc"] == pytest.approx(out["fine_pixels"]["auc"], abs=0.03)
    assert "No loss" in out["verdict"]
    assert out["permutation_p"] > 0.05


def test_without_held_out_regions_it_says_so():
    scores = _scores(500, 2.0, 2.0).assign(region_holdout=False)
    out = region_transfer(scores, OPS, ("A", "B"), 50, 1)
    assert not out["available"]
    assert "held_out_regions has 0 lenses" in out["reason"]
    with pytest.raises(ValueError, match="region_holdout"):
        region_transfer(scores.drop(columns="region_holdout"), OPS, ("A", "B"), 50, 1)


def test_a_table_split_before_the_held_out_regions_is_refused_by_name(tmp_path):
    from stronglens_calibration.evaluation.scoring import score_split
    from stronglens_calibration.synthetic import synthetic_store

    objects, stamps = synthetic_store(tmp_path, 20, size=91)
    with pytest.raises(ValueError, match=r"region_holdout.*kedro run --pipelines split"):
        score_split({}, objects.drop(columns="region_holdout"), stamps, "test", 8, None)
