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
from stronglens_calibration.gates.features import core_pixels, radial_profiles
from stronglens_calibration.gates.registry import (
    GATES,
    GateDefinition,
    gates_of_kind,
    register_gate,
)
from stronglens_calibration.gates.statistics import max_abs_cohens_d, out_of_fold_scores
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import (
    bootstrap,
    bootstrap_auc,
    weighted_auc,
    weighted_mean_ratio,
)

logger = logging.getLogger(__name__)

NORMALISATION_COLUMNS = tuple(f"annulus_{s}_{b}" for b in BANDS for s in ("median", "mad"))


def _threshold(t: ParamReader, gate: GateDefinition) -> Any:
    """A gate's threshold, read by its rule."""
    if gate.rule == "interval":
        return list(t.interval(gate.threshold_key, low=0))
    if gate.rule == "auc":
        return t.number(gate.threshold_key, low=0.5, high=1.0)
    if gate.rule == "probability":
        return t.number(gate.threshold_key, low=0.0, high=1.0)
    return t.positive(gate.threshold_key)


@dataclass(frozen=True)
class GateConfig:
    """Validated ``params:shortcut_gates`` (data and model gates alike).

    ``thresholds`` maps each registered gate's name (:data:`~.registry.GATES`) to its
    threshold.
    """

    enforce: bool
    seed: int
    split: str
    max_per_class: int
    core_radius_px: float
    diagnostic_core_radius_px: float
    diagnostic_max_per_class: int
    diagnostic_logistic_c: float
    arc_annulus_px: tuple[float, float]
    noise_annulus_px: tuple[float, float]
    radial_max_px: float
    radial_bin_px: float
    folds: int
    n_bootstrap: int
    logistic_c: float
    thresholds: dict[str, Any]

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
            noise_annulus_px=p.interval("noise_annulus_px", low=0),
            radial_max_px=r.positive("max_radius_px"),
            radial_bin_px=r.positive("bin_width_px"),
            folds=p.integer("folds", low=2),
            n_bootstrap=p.integer("n_bootstrap", low=10),
            logistic_c=p.positive("logistic_C"),
            thresholds={g.name: _threshold(t, g) for g in GATES.values()},
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


def _entry(value: float, ci: tuple[float, float], gate: str, cfg: GateConfig) -> dict:
    threshold = cfg.thresholds[gate]
    return {
        "value": value,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "threshold": threshold,
        "passed": GATES[gate].passes(value, threshold),
    }


@dataclass
class GateInputs:
    """What the data gates measure: the gate sample, its labels, weights and crops.

    Attributes
    ----------
    sample : pandas.DataFrame
        The objects (:func:`gate_sample`).
    y, w : numpy.ndarray
        Labels (0/1) and ``sample_weight``.
    crops : numpy.ndarray
        float32 ``(n, 3, c, c)`` central crops, g, r, z, nanomaggies per pixel.
    """

    sample: pd.DataFrame
    y: np.ndarray
    w: np.ndarray
    crops: np.ndarray


def _held_out_auc(
    features: np.ndarray, y: np.ndarray, w: np.ndarray, cfg: GateConfig, c: float
) -> tuple[float, tuple[float, float]]:
    scores = out_of_fold_scores(features, y, w, cfg.folds, cfg.seed, c)
    return weighted_auc(y, scores, w), bootstrap_auc(y, scores, w, cfg.n_bootstrap, cfg.seed)


def measure_normalisation(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.5: the largest |Cohen's d| of the annulus median and MAD per band."""
    y, w = inputs.y, inputs.w
    norm = {c: inputs.sample[c].to_numpy(float) for c in NORMALISATION_COLUMNS}
    d_max, ds = max_abs_cohens_d(norm, y, w)
    ci = bootstrap(
        lambda i: max_abs_cohens_d({k: v[i] for k, v in norm.items()}, y[i], w[i])[0],
        y,
        cfg.n_bootstrap,
        cfg.seed,
    )
    return _entry(d_max, ci, "gate_1_5_normalisation", cfg) | {"cohens_d": ds}


def measure_core_brightness(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.8: weighted mean r-band core flux of lenses over non-lenses."""
    y, w = inputs.y, inputs.w
    core_flux = inputs.sample["core_flux_r"].to_numpy(float)
    ratio = weighted_mean_ratio(core_flux, y, w)
    ci = bootstrap(
        lambda i: weighted_mean_ratio(core_flux[i], y[i], w[i]), y, cfg.n_bootstrap, cfg.seed
    )
    return _entry(ratio, ci, "gate_1_8_core_brightness", cfg)


def measure_core_only(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.6: held-out AUC of a logistic regression on the core pixels."""
    features = core_pixels(inputs.crops, cfg.core_radius_px)
    auc, ci = _held_out_auc(features, inputs.y, inputs.w, cfg, cfg.logistic_c)
    return _entry(auc, ci, "gate_1_6_core_only", cfg) | {
        "n_features": int(features.shape[1]),
        "core_radius_px": cfg.core_radius_px,
    }


def measure_radial_profile(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Radial gate: held-out AUC on azimuthal profiles outside the arc annulus."""
    features = radial_profiles(inputs.crops, cfg.radial_rings)
    auc, ci = _held_out_auc(features, inputs.y, inputs.w, cfg, cfg.logistic_c)
    return _entry(auc, ci, "gate_radial_profile", cfg) | {
        "n_features": int(features.shape[1]),
        "radial_rings_px": cfg.radial_rings,
    }


def _north_fraction_difference(north: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    pos, neg = y == 1, y == 0
    if w[pos].sum() <= 0 or w[neg].sum() <= 0:
        return float("nan")
    return float(
        abs(np.average(north[pos], weights=w[pos]) - np.average(north[neg], weights=w[neg]))
    )


def measure_photometric_system(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Photometric-system gate: |fraction of lenses with north (BASS/MzLS) imaging - the
    weighted fraction of non-lenses|. Another camera is another PSF, depth and noise: a
    class imbalance in it is a shortcut no pixel gate need see."""
    y, w = inputs.y, inputs.w
    if "photsys" in inputs.sample:
        north = (inputs.sample["photsys"].astype(str) == "N").to_numpy(float)
    else:
        north = np.zeros(len(y))
    value = _north_fraction_difference(north, y, w)
    ci = bootstrap(
        lambda i: _north_fraction_difference(north[i], y[i], w[i]), y, cfg.n_bootstrap, cfg.seed
    )
    return _entry(value, ci, "gate_photometric_system", cfg) | {
        "north_fraction_lenses": float(north[y == 1].mean()) if (y == 1).any() else float("nan")
    }


for _gate in (
    GateDefinition(
        "gate_1_5_normalisation",
        "gate_1_5_max_abs_cohens_d",
        "max_abs_cohens_d",
        "max",
        "data",
        "max |Cohen's d| of the annulus median and MAD per band",
        measure_normalisation,
    ),
    GateDefinition(
        "gate_1_8_core_brightness",
        "gate_1_8_core_ratio",
        "core_ratio",
        "interval",
        "data",
        "weighted mean r-band core flux, lenses over non-lenses",
        measure_core_brightness,
    ),
    GateDefinition(
        "gate_1_6_core_only",
        "gate_1_6_core_auc",
        "core_auc",
        "auc",
        "data",
        "held-out AUC of a logistic regression on the core pixels",
        measure_core_only,
    ),
    GateDefinition(
        "gate_radial_profile",
        "gate_radial_auc",
        "radial_auc",
        "auc",
        "data",
        "held-out AUC on radial profiles outside the arc annulus",
        measure_radial_profile,
    ),
    GateDefinition(
        "gate_photometric_system",
        "gate_photsys_fraction_difference",
        "photsys_fraction_difference",
        "max",
        "data",
        "|north-imaging fraction of lenses - weighted fraction of non-lenses|",
        measure_photometric_system,
    ),
):
    register_gate(_gate)


def run_data_gates(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], cfg: GateConfig
) -> dict[str, Any]:
    """Measure every registered data gate on the gate sample.

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
    half = int(np.ceil(max(cfg.radial_max_px, cfg.diagnostic_core_radius_px)))
    inputs = GateInputs(sample, y, w, read_stamps(sample, stamps, 2 * half + 1))
    gates = {g.name: g.measure(inputs, cfg) for g in gates_of_kind("data")}
    # the diagnostic fits hundreds of pixels: a class-stratified subsample keeps it cheap
    sub = sample.groupby("label", group_keys=False).head(cfg.diagnostic_max_per_class)
    sub = sub.index.to_numpy()
    wide_core = core_pixels(inputs.crops[sub], cfg.diagnostic_core_radius_px)
    auc, ci = _held_out_auc(wide_core, y[sub], w[sub], cfg, cfg.diagnostic_logistic_c)
    diagnostics = {
        "core_auc_at_diagnostic_radius": {
            "value": auc,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "threshold": None,
            "passed": True,
            "n_features": int(wide_core.shape[1]),
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
