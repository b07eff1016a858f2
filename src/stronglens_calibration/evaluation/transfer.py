"""Transfer to unseen sky regions: the test split's held-out coarse regions against its
fine pixels.

The fine HEALPix split keeps stamps of one pixel together, but its pixels (~27 arcmin)
are far smaller than the scales on which seeing, depth and Galactic extinction are
correlated, so every fine test pixel has training neighbours observed under the same
conditions. The coarse regions (whole pixels of ``split.region_holdout.nside``, e.g.
~7.3 deg) hold no training object at all: a model that learnt the conditions of the
training sky does worse there than on the fine test pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.stats import (
    bootstrap_samples,
    percentile_interval,
    proportion,
    weighted_auc,
)

#: The two parts of the test split, in report order.
PARTS: tuple[str, ...] = ("held_out_regions", "fine_pixels")


def region_transfer(
    test_scores: pd.DataFrame,
    operating_points: Mapping[str, Mapping[str, Any]],
    tiers: tuple[str, ...],
    n_bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """AUC and rates of the test split in its held-out regions and in its fine pixels.

    Parameters
    ----------
    test_scores : pandas.DataFrame
        The test split's scores: ``label``, ``tier``, ``logit``, ``scored``,
        ``region_holdout`` (bool).
    operating_points : Mapping
        Name to ``{"threshold_logit": ...}``: the thresholds chosen on the validation
        split, applied to both parts.
    tiers : tuple of str
        Lens tiers, recall reported per tier.
    n_bootstrap, seed : int
        Bootstrap stratified by part and class.

    Returns
    -------
    dict
        ``available`` (False when either part lacks lenses or non-lenses, with
        ``reason``); per part (:data:`PARTS`) ``n_positive``, ``n_negative``, ``auc``
        with its interval and, per operating point, ``tpr``, ``fpr`` and per-tier recall
        (Jeffreys intervals); ``auc_difference`` (held-out regions minus fine pixels)
        with its interval and ``permutation_p`` (how often a label-stratified shuffle of
        the region membership gives a difference at least as large: the test of "no
        region effect"); ``verdict`` (one sentence).
    """
    scored = test_scores[test_scores["scored"]]
    if "region_holdout" not in scored:
        raise ValueError("the test scores carry no 'region_holdout' column: rerun split")
    held = scored["region_holdout"].to_numpy(bool)
    y = scored["label"].to_numpy(int)
    z = scored["logit"].to_numpy(float)
    tier = scored["tier"].fillna("").astype(str).to_numpy()
    masks = {"held_out_regions": held, "fine_pixels": ~held}
    counts = {
        part: {"n_positive": int((m & (y == 1)).sum()), "n_negative": int((m & (y == 0)).sum())}
        for part, m in masks.items()
    }
    empty = [
        f"{part} has {c['n_positive']} lenses and {c['n_negative']} non-lenses"
        for part, c in counts.items()
        if not (c["n_positive"] and c["n_negative"])
    ]
    if empty:
        return {
            "available": False,
            "reason": "; ".join(empty) + " (split.region_holdout.fraction 0 holds out none)",
            **counts,
            "verdict": "Transfer to unseen sky regions was not measured: " + "; ".join(empty),
        }
    ones = np.ones(len(y))

    def aucs(i: np.ndarray) -> np.ndarray:
        """AUC of each part of the resample ``i`` and their difference."""
        out = []
        for part in PARTS:
            j = i[masks[part][i]]
            out.append(weighted_auc(y[j], z[j], ones[j]))
        return np.array([*out, out[0] - out[1]])

    samples = bootstrap_samples(aucs, 2 * held.astype(int) + y, n_bootstrap, seed)
    point = aucs(np.arange(len(y)))

    out: dict[str, Any] = {"available": True}
    for k, part in enumerate(PARTS):
        m = masks[part]
        lo, hi = percentile_interval(samples[:, k])
        rates: dict[str, Any] = {}
        for name, op in operating_points.items():
            sel = z > float(op["threshold_logit"])
            pos, neg = m & (y == 1), m & (y == 0)
            rates[name] = {
                "tpr": proportion(int(sel[pos].sum()), int(pos.sum())),
                "fpr": proportion(int(sel[neg].sum()), int(neg.sum())),
                **{
                    f"recall_tier_{t.lower()}": proportion(
                        int(sel[pos & (tier == t)].sum()), int((pos & (tier == t)).sum())
                    )
                    for t in tiers
                },
            }
        out[part] = {
            **counts[part],
            "auc": float(point[k]),
            "auc_ci_low": lo,
            "auc_ci_high": hi,
            "operating_points": rates,
        }
    lo, hi = percentile_interval(samples[:, 2])
    diff = float(point[2])
    p_value = _permutation_p(y, z, held, diff, n_bootstrap, seed)
    out.update(
        auc_difference=diff,
        auc_difference_ci_low=lo,
        auc_difference_ci_high=hi,
        permutation_p=p_value,
        n_permutations=n_bootstrap,
    )
    text = (
        f"AUC {point[0]:.3f} in the held-out regions against {point[1]:.3f} in the fine "
        f"test pixels, difference {diff:+.3f} (95 % {lo:+.3f} to {hi:+.3f}; permutation "
        f"p = {p_value:.3f})"
    )
    if hi < 0:
        out["verdict"] = (
            f"The held-out regions score lower than the fine test pixels: {text}; take the "
            "fine test split's figures as optimistic for sky the model was not trained near."
        )
    elif lo > 0:
        out["verdict"] = f"The held-out regions score better than the fine test pixels: {text}."
    else:
        out["verdict"] = (
            f"No loss on unseen sky regions is detected at this test size: {text}; a loss "
            f"smaller than about {max(abs(lo), abs(hi)):.3f} in AUC cannot be excluded."
        )
    return out


def _permutation_p(
    y: np.ndarray, z: np.ndarray, held: np.ndarray, observed: float, n: int, seed: int
) -> float:
    """Two-sided p-value of the AUC difference under shuffles of ``held`` within each class
    (the parts keep their numbers of lenses and non-lenses), with the add-one correction."""
    rng = np.random.default_rng(seed)
    ones = np.ones(len(y))
    by_class = [np.flatnonzero(y == k) for k in (0, 1)]
    beyond = 0
    for _ in range(n):
        shuffled = held.copy()
        for rows in by_class:
            shuffled[rows] = rng.permutation(held[rows])
        a = weighted_auc(y[shuffled], z[shuffled], ones[shuffled])
        b = weighted_auc(y[~shuffled], z[~shuffled], ones[~shuffled])
        beyond += abs(a - b) >= abs(observed) - 1e-12
    return (beyond + 1) / (n + 1)
