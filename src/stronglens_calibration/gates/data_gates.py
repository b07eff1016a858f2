"""Gates 1.5, 1.6, 1.8 and the radial-profile gate, measured out of sample."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.catalogues.sampling import keyed_uniform
from stronglens_calibration.checks import ParamReader
from stronglens_calibration.gates.features import core_pixels, radial_profiles, read_crops
from stronglens_calibration.gates.statistics import (
    bootstrap,
    bootstrap_auc,
    max_abs_cohens_d,
    out_of_fold_scores,
    weighted_auc,
    weighted_mean_ratio,
)

logger = logging.getLogger(__name__)

NORMALISATION_COLUMNS = tuple(f"annulus_{s}_{b}" for b in BANDS for s in ("median", "mad"))


@dataclass(frozen=True)
class GateConfig:
    """Validated ``params:shortcut_gates``."""

    enforce: bool
    seed: int
    split: str
    max_per_class: int
    core_radius_px: float
    diagnostic_core_radius_px: float
    diagnostic_max_per_class: int
    diagnostic_logistic_c: float
    arc_annulus_px: tuple[float, float]
    radial_max_px: float
    radial_bin_px: float
    folds: int
    n_bootstrap: int
    logistic_c: float
    max_abs_cohens_d: float
    core_auc: float
    radial_auc: float
    core_ratio: tuple[float, float]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GateConfig:
        p = ParamReader(params, "shortcut_gates")
        t = p.section("thresholds")
        r = p.section("radial")
        cfg = cls(
            enforce=p.boolean("enforce"),
            seed=p.integer("seed"),
            split=p.choice("split", ["train", "val", "test"]),
            max_per_class=p.integer("max_per_class", low=10),
            core_radius_px=p.positive("core_radius_px"),
            diagnostic_core_radius_px=p.positive("diagnostic_core_radius_px"),
            diagnostic_max_per_class=p.integer("diagnostic_max_per_class", low=10),
            diagnostic_logistic_c=p.positive("diagnostic_logistic_C"),
            arc_annulus_px=p.interval("arc_annulus_px", low=0),
            radial_max_px=r.positive("max_radius_px"),
            radial_bin_px=r.positive("bin_width_px"),
            folds=p.integer("folds", low=2),
            n_bootstrap=p.integer("n_bootstrap", low=10),
            logistic_c=p.positive("logistic_C"),
            max_abs_cohens_d=t.positive("max_abs_cohens_d"),
            core_auc=t.number("core_auc", low=0.5, high=1.0),
            radial_auc=t.number("radial_auc", low=0.5, high=1.0),
            core_ratio=t.interval("core_ratio", low=0),
        )
        if cfg.arc_annulus_px[1] >= cfg.radial_max_px:
            raise ValueError(
                "parameter 'shortcut_gates.radial.max_radius_px' must exceed the outer "
                "radius of 'shortcut_gates.arc_annulus_px'"
            )
        return cfg

    @property
    def radial_rings(self) -> list[tuple[float, float]]:
        """Profile rings (pixels): the core, then rings from the arc annulus' outer edge to
        ``radial_max_px``; the annulus where arcs live is left out."""
        starts = np.arange(self.arc_annulus_px[1], self.radial_max_px, self.radial_bin_px)
        outer = [(float(a), float(min(a + self.radial_bin_px, self.radial_max_px))) for a in starts]
        return [(0.0, self.core_radius_px), *outer]


def gate_sample(objects: pd.DataFrame, cfg: GateConfig) -> pd.DataFrame:
    """Usable objects of the gate split, at most ``max_per_class`` per class, chosen by a
    keyed hash of ``object_id`` (stratified by class; never "the first n rows")."""
    rows = objects[
        objects["cutout_ok"] & (objects["split"] == cfg.split) & (objects["sample_weight"] > 0)
    ].copy()
    rows["_key"] = keyed_uniform(rows["object_id"], cfg.seed)
    picked = rows.sort_values("_key").groupby("label", group_keys=False).head(cfg.max_per_class)
    return picked.drop(columns="_key").reset_index(drop=True)


def _entry(value: float, ci: tuple[float, float], threshold: Any, passed: bool) -> dict:
    return {
        "value": value,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "threshold": threshold,
        "passed": bool(passed),
    }


def _auc_gate(
    features: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    cfg: GateConfig,
    threshold: float | None,
    c: float | None = None,
) -> dict:
    scores = out_of_fold_scores(features, y, w, cfg.folds, cfg.seed, c or cfg.logistic_c)
    auc = weighted_auc(y, scores, w)
    ci = bootstrap_auc(y, scores, w, cfg.n_bootstrap, cfg.seed)
    passed = threshold is None or auc < threshold
    return _entry(auc, ci, threshold, passed) | {"n_features": int(features.shape[1])}


def run_data_gates(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], cfg: GateConfig
) -> dict[str, Any]:
    """Measure every data gate on the gate sample.

    Returns
    -------
    dict
        ``gates`` (each with ``value``, ``ci_low``, ``ci_high``, ``threshold``,
        ``passed``), ``diagnostics``, ``n_positive``, ``n_negative`` and ``passed``.
    """
    sample = gate_sample(objects, cfg)
    y = sample["label"].to_numpy(int)
    w = sample["sample_weight"].to_numpy(float)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if min(n_pos, n_neg) < cfg.folds:
        raise ValueError(
            f"the '{cfg.split}' split has {n_pos} usable positives and {n_neg} negatives; "
            f"the gates need at least 'folds'={cfg.folds} of each"
        )
    gates: dict[str, dict] = {}

    norm = {c: sample[c].to_numpy(float) for c in NORMALISATION_COLUMNS}
    d_max, ds = max_abs_cohens_d(norm, y, w)
    ci = bootstrap(
        lambda i: max_abs_cohens_d({k: v[i] for k, v in norm.items()}, y[i], w[i])[0],
        y,
        cfg.n_bootstrap,
        cfg.seed,
    )
    gates["gate_1_5_normalisation"] = _entry(
        d_max, ci, cfg.max_abs_cohens_d, d_max < cfg.max_abs_cohens_d
    ) | {"cohens_d": ds}

    core_flux = sample["core_flux_r"].to_numpy(float)
    ratio = weighted_mean_ratio(core_flux, y, w)
    ci = bootstrap(
        lambda i: weighted_mean_ratio(core_flux[i], y[i], w[i]), y, cfg.n_bootstrap, cfg.seed
    )
    lo, hi = cfg.core_ratio
    gates["gate_1_8_core_brightness"] = _entry(ratio, ci, [lo, hi], lo <= ratio <= hi)

    half = int(np.ceil(max(cfg.radial_max_px, cfg.diagnostic_core_radius_px)))
    crops = read_crops(sample, stamps, half)
    gates["gate_1_6_core_only"] = _auc_gate(
        core_pixels(crops, cfg.core_radius_px), y, w, cfg, cfg.core_auc
    ) | {"core_radius_px": cfg.core_radius_px}
    gates["gate_radial_profile"] = _auc_gate(
        radial_profiles(crops, cfg.radial_rings), y, w, cfg, cfg.radial_auc
    ) | {"radial_rings_px": cfg.radial_rings}
    # the diagnostic fits hundreds of pixels: a class-stratified subsample keeps it cheap
    sub = sample.groupby("label", group_keys=False).head(cfg.diagnostic_max_per_class)
    sub = sub.index.to_numpy()
    diagnostics = {
        "core_auc_at_diagnostic_radius": _auc_gate(
            core_pixels(crops[sub], cfg.diagnostic_core_radius_px),
            y[sub],
            w[sub],
            cfg,
            None,
            cfg.diagnostic_logistic_c,
        )
        | {
            "core_radius_px": cfg.diagnostic_core_radius_px,
            "gates": False,
            "n_objects": int(sub.size),
        },
    }
    passed = all(g["passed"] for g in gates.values())
    for name, g in gates.items():
        logger.info(
            "%s: %.3f [%.3f, %.3f] threshold %s -> %s",
            name,
            g["value"],
            g["ci_low"],
            g["ci_high"],
            g["threshold"],
            "pass" if g["passed"] else "FAIL",
        )
    return {
        "gates": gates,
        "diagnostics": diagnostics,
        "n_positive": n_pos,
        "n_negative": n_neg,
        "split": cfg.split,
        "passed": passed,
    }


def failure_message(report: Mapping[str, Any]) -> str:
    """Each failed gate with its value, interval and threshold."""
    lines = [
        f"{name}: {g['value']:.3f} (95% CI {g['ci_low']:.3f}-{g['ci_high']:.3f}), "
        f"threshold {g['threshold']}"
        for name, g in report["gates"].items()
        if not g["passed"]
    ]
    return (
        "shortcut gates failed; training will not start (set shortcut_gates.enforce: false "
        f"to record and continue, for ablations). n_positive={report['n_positive']}, "
        f"n_negative={report['n_negative']}:\n  " + "\n  ".join(lines)
    )
