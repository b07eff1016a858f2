"""A cheap baseline beside the CNN: gradient boosting on ring statistics.

If a few dozen numbers per stamp (the mean and the azimuthal scatter of the normalised
flux in rings around the centre, per band) rank lenses as well as the network does, the
network has not earned its cost, and whatever it finds may be found by a simpler
selection; an audit of the demo found such a model matched the CNN's test AUC. The
baseline is trained on the training split (``sample_weight`` and class balance as the
network's sampler uses them), its number of boosting iterations chosen on the validation
split, and scored on the test split; the comparison is paired (the same bootstrap
resamples of the test objects for both models).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.evaluation.operating_points import threshold_at_fpr
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import (
    bootstrap_samples,
    percentile_interval,
    proportion,
    weighted_auc,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineConfig:
    """The baseline model.

    Attributes
    ----------
    rings_px : tuple of float
        Ring edges in pixels (``[r0, r1), [r1, r2), ...``).
    max_iter : int
        Boosting iterations fitted; the best on the validation split is used.
    learning_rate : float
        Shrinkage.
    max_leaf_nodes : int
        Leaves per tree.
    seed : int
        Random state.
    """

    rings_px: tuple[float, ...]
    max_iter: int
    learning_rate: float
    max_leaf_nodes: int
    seed: int


def ring_statistics(
    stamps: np.ndarray, median: np.ndarray, mad: np.ndarray, rings_px: Sequence[float]
) -> tuple[np.ndarray, list[str]]:
    """Mean and standard deviation of the normalised flux in each ring, per band.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, c, c)``, nanomaggies per pixel.
    median, mad : numpy.ndarray
        ``(n, 3)`` sky level and scale per band (the annulus median and MAD), the same
        normalisation the network's preprocessing applies.
    rings_px : sequence of float
        Ring edges in pixels.

    Returns
    -------
    features : numpy.ndarray
        float64 ``(n, 2 * 3 * (len(rings_px) - 1))``.
    names : list of str
        ``mean_<band>_<lo>-<hi>`` and ``std_<band>_<lo>-<hi>``.
    """
    r = radius_map(stamps.shape[-1])
    scale = np.where(mad > 0, mad, np.nan)[:, :, None, None]
    norm = (stamps.astype(np.float64) - median[:, :, None, None]) / scale
    columns, names = [], []
    for lo, hi in zip(rings_px[:-1], rings_px[1:], strict=True):
        ring = (r >= lo) & (r < hi)
        if not ring.any():
            raise ValueError(f"ring {lo}-{hi} px holds no pixel of a {stamps.shape[-1]} px crop")
        pixels = norm[:, :, ring]
        columns += [np.nanmean(pixels, axis=2), np.nanstd(pixels, axis=2)]
        names += [f"{stat}_{b}_{lo:g}-{hi:g}" for stat in ("mean", "std") for b in BANDS]
    return np.concatenate(columns, axis=1), names


def _features(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], cfg: BaselineConfig
) -> np.ndarray:
    size = 2 * int(np.ceil(max(cfg.rings_px))) + 1
    crops = read_stamps(objects, stamps, size)
    median = objects[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float64)
    mad = objects[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float64)
    return ring_statistics(crops, median, mad, cfg.rings_px)[0]


def fit_ring_baseline(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], cfg: BaselineConfig
) -> pd.DataFrame:
    """Train the baseline on the training split and score validation and test.

    Returns
    -------
    pandas.DataFrame
        ``object_id``, ``split`` (val or test), ``label``, ``score`` (the model's decision
        function at the best validation iteration) and ``best_iteration``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    usable = objects[objects["cutout_ok"]]
    parts = {
        s: usable[usable["split"] == s].reset_index(drop=True) for s in ("train", "val", "test")
    }
    for name, rows in parts.items():
        if rows["label"].nunique() < 2:
            raise ValueError(f"the baseline needs lenses and non-lenses in the {name} split")
    x = {name: _features(rows, stamps, cfg) for name, rows in parts.items()}
    y_train = parts["train"]["label"].to_numpy(int)
    w = parts["train"]["sample_weight"].to_numpy(float)
    for k in (0, 1):  # both classes carry half the weight, as the network's sampler draws
        w[y_train == k] *= 0.5 / max(w[y_train == k].sum(), 1e-12)
    model = HistGradientBoostingClassifier(
        max_iter=cfg.max_iter,
        learning_rate=cfg.learning_rate,
        max_leaf_nodes=cfg.max_leaf_nodes,
        early_stopping=False,
        random_state=cfg.seed,
    )
    model.fit(x["train"], y_train, sample_weight=w * len(w))
    y_val = parts["val"]["label"].to_numpy(int)
    val_stages = list(model.staged_decision_function(x["val"]))
    aucs = [weighted_auc(y_val, z, np.ones(len(y_val))) for z in val_stages]
    best = int(np.nanargmax(aucs))
    test_scores = next(islice(model.staged_decision_function(x["test"]), best, None))
    out = []
    for name, scores in (("val", val_stages[best]), ("test", test_scores)):
        rows = parts[name]
        out.append(
            pd.DataFrame(
                {
                    "object_id": rows["object_id"].to_numpy(),
                    "split": name,
                    "label": rows["label"].to_numpy(int),
                    "score": np.asarray(scores, dtype=np.float64),
                    "best_iteration": best + 1,
                }
            )
        )
    logger.info(
        "ring-statistics baseline: %d features, best validation AUC %.3f at iteration %d",
        x["train"].shape[1],
        aucs[best],
        best + 1,
    )
    return pd.concat(out, ignore_index=True)


def compare_with_baseline(
    test_candidates: pd.DataFrame,
    baseline_scores: pd.DataFrame,
    fpr_target: float,
    n_bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """The CNN against the baseline on the same test objects.

    Parameters
    ----------
    test_candidates : pandas.DataFrame
        The CNN's test table (``object_id``, ``label``, ``logit``, ``scored``).
    baseline_scores : pandas.DataFrame
        :func:`fit_ring_baseline`'s table.
    fpr_target : float
        The operating point compared (one of the CNN's ``fpr_targets``): each model's
        threshold at this FPR is chosen on its own validation non-lenses.
    n_bootstrap, seed : int
        Paired class-stratified bootstrap.

    Returns
    -------
    dict
        ``cnn_auc``, ``baseline_auc`` with intervals, ``auc_difference`` (CNN - baseline)
        with its paired interval, ``cnn_tpr`` and ``baseline_tpr`` at each model's
        validation-chosen threshold and ``tpr_difference`` (paired), ``n_test``,
        ``best_iteration``, ``verdict`` (one sentence).
    """
    from stronglens_calibration.evaluation.metrics import fpr_label

    test = baseline_scores[baseline_scores["split"] == "test"]
    selected = f"selected_fpr_{fpr_label(fpr_target)}"
    if selected not in test_candidates:
        raise ValueError(
            f"test_candidates has no column {selected!r}: the baseline's operating point "
            "(evaluate.baseline.fpr_target) must be one of evaluate.fpr_targets"
        )
    cnn = test_candidates[test_candidates["scored"]][["object_id", "logit", selected]]
    both = test.merge(cnn, on="object_id", how="inner")
    y = both["label"].to_numpy(int)
    a, b = both["logit"].to_numpy(float), both["score"].to_numpy(float)
    ones = np.ones(len(y))
    val = baseline_scores[baseline_scores["split"] == "val"]
    threshold = threshold_at_fpr(val.loc[val["label"] == 0, "score"].to_numpy(), fpr_target)
    cnn_hit = both[selected].to_numpy(bool)
    base_hit = b > threshold.threshold
    lens = y == 1

    def stats(i: np.ndarray) -> np.ndarray:
        """AUCs of both models and their TPRs at the validation-chosen thresholds."""
        pos = i[lens[i]]
        return np.array(
            [
                weighted_auc(y[i], a[i], ones[i]),
                weighted_auc(y[i], b[i], ones[i]),
                cnn_hit[pos].mean() if pos.size else np.nan,
                base_hit[pos].mean() if pos.size else np.nan,
            ]
        )

    samples = bootstrap_samples(stats, y, n_bootstrap, seed)
    point = stats(np.arange(len(y)))

    cnn_auc, base_auc = float(point[0]), float(point[1])
    cnn_ci, base_ci = percentile_interval(samples[:, 0]), percentile_interval(samples[:, 1])
    lo, hi = percentile_interval(samples[:, 0] - samples[:, 1])
    tpr_lo, tpr_hi = percentile_interval(samples[:, 2] - samples[:, 3])
    cnn_tpr = proportion(int(cnn_hit[lens].sum()), int(lens.sum()))
    tpr = proportion(int(base_hit[lens].sum()), int(lens.sum()))
    auc_text = (
        f"AUC {cnn_auc:.3f} (CNN) against {base_auc:.3f} (baseline), difference "
        f"{cnn_auc - base_auc:+.3f} (95 % {lo:+.3f} to {hi:+.3f})"
    )
    tpr_text = (
        f"TPR at the validation-chosen FPR {fpr_target:g} threshold {cnn_tpr['value']:.2f} "
        f"against {tpr['value']:.2f}, difference {cnn_tpr['value'] - tpr['value']:+.2f} "
        f"(95 % {tpr_lo:+.2f} to {tpr_hi:+.2f})"
    )
    if lo > 0 or tpr_lo > 0:
        verdict = f"The CNN beats the ring-statistics baseline: {auc_text}; {tpr_text}."
    elif hi < 0 or tpr_hi < 0:
        verdict = f"The ring-statistics baseline beats the CNN: {auc_text}; {tpr_text}."
    else:
        verdict = (
            f"The test split cannot tell the CNN from a ring-statistics baseline: {auc_text}; "
            f"{tpr_text}. The CNN has not shown that it earns its cost."
        )
    return {
        "model": "gradient boosting on ring statistics (mean, azimuthal scatter per band)",
        "n_test": int(len(y)),
        "best_iteration": int(test["best_iteration"].iloc[0]) if len(test) else 0,
        "cnn_auc": float(cnn_auc),
        "cnn_auc_ci_low": cnn_ci[0],
        "cnn_auc_ci_high": cnn_ci[1],
        "baseline_auc": float(base_auc),
        "baseline_auc_ci_low": base_ci[0],
        "baseline_auc_ci_high": base_ci[1],
        "auc_difference": float(cnn_auc - base_auc),
        "auc_difference_ci_low": float(lo),
        "auc_difference_ci_high": float(hi),
        "fpr_target": float(fpr_target),
        "cnn_tpr": cnn_tpr["value"],
        "cnn_tpr_ci_low": cnn_tpr["ci_low"],
        "cnn_tpr_ci_high": cnn_tpr["ci_high"],
        "tpr_difference": float(cnn_tpr["value"] - tpr["value"]),
        "tpr_difference_ci_low": tpr_lo,
        "tpr_difference_ci_high": tpr_hi,
        "baseline_tpr": tpr["value"],
        "baseline_tpr_ci_low": tpr["ci_low"],
        "baseline_tpr_ci_high": tpr["ci_high"],
        "baseline_threshold_resolved": bool(threshold.resolved),
        "verdict": verdict,
    }
