"""Gates 1.5, 1.6, 1.8 and the radial-profile gate, measured out of sample."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.catalogues.sampling import keyed_uniform
from stronglens_calibration.gates.features import core_pixels, radial_profiles
from stronglens_calibration.gates.null import LabelMeasure, permutation_null
from stronglens_calibration.gates.parameters import GateConfig
from stronglens_calibration.gates.registry import (
    GATES,
    GateDefinition,
    gates_of_kind,
    register_gate,
)
from stronglens_calibration.gates.statistics import max_abs_cohens_d, out_of_fold_scores
from stronglens_calibration.gates.verdicts import (
    blocking,
    overall,
    sample_size_factor,
)
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import (
    bootstrap,
    bootstrap_auc,
    bootstrap_samples,
    weighted_auc,
    weighted_mean_ratio,
)

logger = logging.getLogger(__name__)

NORMALISATION_COLUMNS = tuple(f"annulus_{s}_{b}" for b in BANDS for s in ("median", "mad"))


def gate_sample(objects: pd.DataFrame, cfg: GateConfig) -> pd.DataFrame:
    """Usable objects of the gate split, at most ``max_per_class`` per class, chosen by a
    keyed hash of ``object_id`` (stratified by class; never "the first n rows")."""
    rows = objects[
        objects["cutout_ok"] & (objects["split"] == cfg.split) & (objects["sample_weight"] > 0)
    ].copy()
    rows["_key"] = keyed_uniform(rows["object_id"], cfg.seed)
    picked = rows.sort_values("_key").groupby("label", group_keys=False).head(cfg.max_per_class)
    return picked.drop(columns="_key").reset_index(drop=True)


def gate_entry(value: float, ci: tuple[float, float], gate: str, cfg: GateConfig) -> dict:
    """A gate's report entry: value, interval, threshold and the interval verdict
    (``passed`` is ``verdict == "pass"``; ``point_passes`` the point estimate's)."""
    threshold = cfg.thresholds[gate]
    verdict = GATES[gate].verdict(ci[0], ci[1], threshold)
    return {
        "value": value,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "threshold": threshold,
        "verdict": verdict,
        "point_passes": GATES[gate].passes(value, threshold),
        "passed": verdict == "pass",
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
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per gate sample: a gate's features feed both its
        measurement and its null."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]


def _held_out_measure(
    features: np.ndarray, cfg: GateConfig, c: float | None = None
) -> LabelMeasure:
    """Held-out AUC of the gate's logistic regression (inverse L2 strength ``c``,
    default ``logistic_C``) for any labelling: the folds and the model as for the real
    labels; the interval bootstraps the held-out scores."""
    strength = cfg.logistic_c if c is None else c

    def measure(
        y: np.ndarray, w: np.ndarray, n_boot: int, seed: int
    ) -> tuple[float, tuple[float, float]]:
        scores = out_of_fold_scores(features, y, w, cfg.folds, cfg.seed, strength)
        return weighted_auc(y, scores, w), bootstrap_auc(y, scores, w, n_boot, seed)

    return measure


def _resampled(statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> LabelMeasure:
    """A :data:`LabelMeasure` from ``statistic(index, y, w)``: the value on every object,
    the interval over class-stratified bootstrap resamples."""

    def measure(
        y: np.ndarray, w: np.ndarray, n_boot: int, seed: int
    ) -> tuple[float, tuple[float, float]]:
        everyone = np.arange(y.size)
        value = statistic(everyone, y, w)
        return value, bootstrap(lambda i: statistic(i, y[i], w[i]), y, n_boot, seed)

    return measure


def _normalisation_table(inputs: GateInputs) -> dict[str, np.ndarray]:
    return {c: inputs.sample[c].to_numpy(float) for c in NORMALISATION_COLUMNS}


def largest_abs_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Interval of ``max_j |d_j|`` from bootstrap samples of every ``d_j``.

    The percentile interval of the resampled maximum is biased: noise alone lifts the
    largest of several |d| above the true largest (with six columns and 400 lenses, to
    about 0.1 when every true d is 0), so its interval can miss the point estimate and
    never clears a threshold near the noise level. Instead each column gets a
    Bonferroni interval (``level`` jointly over the ``k`` columns); the true largest |d|
    then lies at least as far from zero as the farthest column's interval and at most as
    far as the largest end.

    Parameters
    ----------
    samples : numpy.ndarray
        ``(n_boot, k)`` resampled d of each column.
    level : float
        Joint coverage.

    Returns
    -------
    tuple of float
        ``(low, high)`` bounds of ``max_j |d_j|``.
    """
    tail = 100.0 * (1.0 - level) / (2 * samples.shape[1])
    lows, highs = [], []
    for column in samples.T:
        finite = column[np.isfinite(column)]
        if finite.size == 0:
            return float("nan"), float("nan")
        lo, hi = np.percentile(finite, [tail, 100.0 - tail])
        lows.append(0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi)))
        highs.append(max(abs(lo), abs(hi)))
    return float(max(lows)), float(max(highs))


def normalisation_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """Gate 1.5's statistic (largest |Cohen's d|) for any labelling, with the interval of
    :func:`largest_abs_interval`."""
    norm = _normalisation_table(inputs)

    def all_d(i: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        ds = max_abs_cohens_d({k: v[i] for k, v in norm.items()}, y, w)[1]
        return np.array([ds[k] for k in NORMALISATION_COLUMNS])

    def measure(
        y: np.ndarray, w: np.ndarray, n_boot: int, seed: int
    ) -> tuple[float, tuple[float, float]]:
        value = float(np.nanmax(np.abs(all_d(np.arange(y.size), y, w))))
        samples = bootstrap_samples(lambda i: all_d(i, y[i], w[i]), y, n_boot, seed)
        return value, largest_abs_interval(samples)

    return measure


def measure_normalisation(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.5: the largest |Cohen's d| of the annulus median and MAD per band."""
    y, w = inputs.y, inputs.w
    value, ci = normalisation_measure(inputs, cfg)(y, w, cfg.n_bootstrap, cfg.seed)
    ds = max_abs_cohens_d(_normalisation_table(inputs), y, w)[1]
    return gate_entry(value, ci, "gate_1_5_normalisation", cfg) | {"cohens_d": ds}


def core_brightness_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """Gate 1.8's statistic (weighted core-flux ratio) for any labelling."""
    core_flux = inputs.sample["core_flux_r"].to_numpy(float)
    return _resampled(lambda i, y, w: weighted_mean_ratio(core_flux[i], y, w))


def measure_core_brightness(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.8: weighted mean r-band core flux of lenses over non-lenses."""
    value, ci = core_brightness_measure(inputs, cfg)(inputs.y, inputs.w, cfg.n_bootstrap, cfg.seed)
    return gate_entry(value, ci, "gate_1_8_core_brightness", cfg)


def _core_features(inputs: GateInputs, cfg: GateConfig) -> np.ndarray:
    return inputs.derived("core", lambda: core_pixels(inputs.crops, cfg.core_radius_px))


def core_only_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """Gate 1.6's statistic (held-out AUC on the core pixels) for any labelling."""
    return _held_out_measure(_core_features(inputs, cfg), cfg)


def measure_core_only(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Gate 1.6: held-out AUC of a logistic regression on the core pixels."""
    features = _core_features(inputs, cfg)
    auc, ci = _held_out_measure(features, cfg)(inputs.y, inputs.w, cfg.n_bootstrap, cfg.seed)
    return gate_entry(auc, ci, "gate_1_6_core_only", cfg) | {
        "n_features": int(features.shape[1]),
        "core_radius_px": cfg.core_radius_px,
    }


def _artefact_features(inputs: GateInputs, cfg: GateConfig) -> tuple[np.ndarray, list[str]]:
    from stronglens_calibration.gates.artefacts import artefact_indicators

    return inputs.derived(
        "artefacts",
        lambda: artefact_indicators(inputs.crops, cfg.core_radius_px, cfg.arc_annulus_px),
    )


def artefact_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """The artefact gate's statistic (held-out AUC on artefact indicators) for any
    labelling."""
    return _held_out_measure(_artefact_features(inputs, cfg)[0], cfg)


def measure_artefacts(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Artefact gate: held-out AUC of a logistic regression on the fractions of
    exact-zero, NaN and constant-patch pixels per band in the core and the arc annulus
    (:mod:`~.artefacts`), with the rate of each indicator per class."""
    from stronglens_calibration.gates.artefacts import class_rates

    features, names = _artefact_features(inputs, cfg)
    auc, ci = _held_out_measure(features, cfg)(inputs.y, inputs.w, cfg.n_bootstrap, cfg.seed)
    rates = class_rates(features, names, inputs.y, inputs.w)
    flagged = (features > 0).any(axis=1)
    pos, neg = inputs.y == 1, inputs.y == 0
    return gate_entry(auc, ci, "gate_artefacts", cfg) | {
        "n_features": len(names),
        "rates": {k: v for k, v in rates.items() if v["lenses"] > 0 or v["non_lenses"] > 0},
        "objects_with_artefacts": {
            "lenses": float(flagged[pos].mean()) if pos.any() else float("nan"),
            "non_lenses": float(np.average(flagged[neg], weights=inputs.w[neg]))
            if inputs.w[neg].sum() > 0
            else float("nan"),
        },
    }


def _clipped_core_features(inputs: GateInputs, cfg: GateConfig) -> tuple[np.ndarray, list[str]]:
    from stronglens_calibration.gates.network_input import clipped_core_features

    def compute() -> tuple[np.ndarray, list[str]]:
        table = inputs.sample
        median = table[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
        mad = table[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)
        return clipped_core_features(
            inputs.crops, median, mad, cfg.network_clip_sigma, cfg.core_radius_px
        )

    return inputs.derived("clipped_core", compute)


def clipped_core_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """The clipped-core gate's statistic (held-out AUC on plateau size and core level per
    band of the preprocessed input) for any labelling."""
    return _held_out_measure(_clipped_core_features(inputs, cfg)[0], cfg)


def measure_clipped_core(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Clipped-core gate: held-out AUC of a logistic regression on what the network sees
    of the core (:mod:`~.network_input`): per band, the size of the plateau at the clip
    level around the centre and the mean clipped level of the core pixels; with the
    weighted class medians of each."""
    from stronglens_calibration.gates.network_input import class_medians

    features, names = _clipped_core_features(inputs, cfg)
    auc, ci = _held_out_measure(features, cfg)(inputs.y, inputs.w, cfg.n_bootstrap, cfg.seed)
    return gate_entry(auc, ci, "gate_clipped_core", cfg) | {
        "n_features": len(names),
        "clip_sigma": cfg.network_clip_sigma,
        "class_medians": class_medians(features, names, inputs.y, inputs.w),
    }


def radial_profile_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """The radial gate's statistic (held-out AUC on the profiles) for any labelling."""
    profiles = inputs.derived("radial", lambda: radial_profiles(inputs.crops, cfg.radial_rings))
    return _held_out_measure(profiles, cfg)


def measure_radial_profile(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Radial gate: held-out AUC on azimuthal profiles outside the arc annulus."""
    auc, ci = radial_profile_measure(inputs, cfg)(inputs.y, inputs.w, cfg.n_bootstrap, cfg.seed)
    return gate_entry(auc, ci, "gate_radial_profile", cfg) | {
        "n_features": 3 * len(cfg.radial_rings),
        "radial_rings_px": cfg.radial_rings,
    }


def _north_fraction_difference(north: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    pos, neg = y == 1, y == 0
    if w[pos].sum() <= 0 or w[neg].sum() <= 0:
        return float("nan")
    return float(
        abs(np.average(north[pos], weights=w[pos]) - np.average(north[neg], weights=w[neg]))
    )


def _north(inputs: GateInputs) -> np.ndarray:
    if "photsys" in inputs.sample:
        return (inputs.sample["photsys"].astype(str) == "N").to_numpy(float)
    return np.zeros(len(inputs.y))


def photometric_system_measure(inputs: GateInputs, cfg: GateConfig) -> LabelMeasure:
    """The photometric-system gate's statistic for any labelling."""
    north = _north(inputs)
    return _resampled(lambda i, y, w: _north_fraction_difference(north[i], y, w))


def measure_photometric_system(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Photometric-system gate: |fraction of lenses with north (BASS/MzLS) imaging - the
    weighted fraction of non-lenses|. Another camera is another PSF, depth and noise: a
    class imbalance in it is a shortcut no pixel gate need see."""
    y = inputs.y
    value, ci = photometric_system_measure(inputs, cfg)(y, inputs.w, cfg.n_bootstrap, cfg.seed)
    north = _north(inputs)
    return gate_entry(value, ci, "gate_photometric_system", cfg) | {
        "north_fraction_lenses": float(north[y == 1].mean()) if (y == 1).any() else float("nan")
    }


def kish_effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum w**2`` (0 when no weight)."""
    w = np.asarray(weights, dtype=float)
    total = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / total) if total > 0 else 0.0


def _effective_ratio(w: np.ndarray, y: np.ndarray) -> float:
    n_pos = kish_effective_size(w[y == 1])
    return kish_effective_size(w[y == 0]) / n_pos if n_pos > 0 else float("nan")


def measure_effective_sample(inputs: GateInputs, cfg: GateConfig) -> dict[str, Any]:
    """Effective-sample gate: Kish's effective number of the weighted non-lenses over
    that of the lenses. Reweighting that hands the weight to a few non-lenses leaves the
    gates (and training) comparing the lenses with those few; below a ratio of 1 the
    non-lenses carry less information than the lenses they are compared with."""
    y, w = inputs.y, inputs.w
    value = _effective_ratio(w, y)
    ci = bootstrap(lambda i: _effective_ratio(w[i], y[i]), y, cfg.n_bootstrap, cfg.seed)
    neg = np.flatnonzero(y == 0)
    top = neg[np.argsort(w[neg], kind="stable")[::-1][:5]]
    total = float(w[neg].sum())
    largest = [
        {
            "object_id": str(inputs.sample["object_id"].iloc[i]),
            "weight": float(w[i]),
            "share_of_non_lens_weight": float(w[i] / total) if total > 0 else float("nan"),
        }
        for i in top
    ]
    return gate_entry(value, ci, "gate_effective_sample", cfg) | {
        "effective_n_lenses": kish_effective_size(w[y == 1]),
        "effective_n_non_lenses": kish_effective_size(w[neg]),
        "n_non_lenses": int(neg.size),
        "largest_weights": largest,
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
        normalisation_measure,
    ),
    GateDefinition(
        "gate_1_8_core_brightness",
        "gate_1_8_core_ratio",
        "core_ratio",
        "interval",
        "data",
        "weighted mean r-band core flux, lenses over non-lenses",
        measure_core_brightness,
        core_brightness_measure,
    ),
    GateDefinition(
        "gate_1_6_core_only",
        "gate_1_6_core_auc",
        "core_auc",
        "auc",
        "data",
        "held-out AUC of a logistic regression on the core pixels",
        measure_core_only,
        core_only_measure,
    ),
    GateDefinition(
        "gate_clipped_core",
        "gate_clipped_core_auc",
        "clipped_core_auc",
        "auc",
        "data",
        "held-out AUC on the network input's core: plateau size at the clip and core level",
        measure_clipped_core,
        clipped_core_measure,
    ),
    GateDefinition(
        "gate_artefacts",
        "gate_artefact_auc",
        "artefact_auc",
        "auc",
        "data",
        "held-out AUC on exact-zero, NaN and constant-patch pixel fractions (core, arc annulus)",
        measure_artefacts,
        artefact_measure,
    ),
    GateDefinition(
        "gate_radial_profile",
        "gate_radial_auc",
        "radial_auc",
        "auc",
        "data",
        "held-out AUC on radial profiles outside the arc annulus",
        measure_radial_profile,
        radial_profile_measure,
    ),
    GateDefinition(
        "gate_photometric_system",
        "gate_photsys_fraction_difference",
        "photsys_fraction_difference",
        "max",
        "data",
        "|north-imaging fraction of lenses - weighted fraction of non-lenses|",
        measure_photometric_system,
        photometric_system_measure,
    ),
    GateDefinition(
        "gate_effective_sample",
        "gate_effective_sample_ratio",
        "min_effective_sample_ratio",
        "min",
        "data",
        "Kish effective number of weighted non-lenses over that of the lenses",
        measure_effective_sample,
    ),
):
    register_gate(_gate)


def run_data_gates(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], cfg: GateConfig
) -> dict[str, Any]:
    """Measure every registered data gate on the gate sample, with its permutation null.

    Returns
    -------
    dict
        ``gates`` (each with ``value``, ``ci_low``, ``ci_high``, ``threshold``,
        ``verdict`` (pass / inconclusive / fail, from the interval), ``point_passes``,
        ``passed`` (``verdict == "pass"``), ``null`` (:func:`~.null.permutation_null`,
        for class comparisons) and, when inconclusive, ``sample_size_factor``),
        ``diagnostics``, ``n_positive``, ``n_negative``, ``verdict`` (the worst),
        ``blocking`` (the gates that stop an enforced run under ``inconclusive``) and
        ``passed`` (every gate passes).
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
    gates = {g.name: _measure_with_null(g, inputs, cfg) for g in gates_of_kind("data")}
    # the diagnostic fits hundreds of pixels: a class-stratified subsample keeps it cheap
    sub = sample.groupby("label", group_keys=False).head(cfg.diagnostic_max_per_class)
    sub = sub.index.to_numpy()
    wide_core = core_pixels(inputs.crops[sub], cfg.diagnostic_core_radius_px)
    auc, ci = _held_out_measure(wide_core, cfg, cfg.diagnostic_logistic_c)(
        y[sub], w[sub], cfg.n_bootstrap, cfg.seed
    )
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
    for name, g in gates.items():
        logger.info("%s", gate_line(name, g, n_pos, n_neg))
    return {
        "gates": gates,
        "diagnostics": diagnostics,
        "n_positive": n_pos,
        "n_negative": n_neg,
        "split": cfg.split,
        "network_clip_sigma": cfg.network_clip_sigma,
        "verdict": overall(gates),
        "inconclusive_rule": cfg.inconclusive,
        "blocking": blocking(gates, cfg.inconclusive),
        "passed": all(g["passed"] for g in gates.values()),
    }


def _measure_with_null(gate: GateDefinition, inputs: GateInputs, cfg: GateConfig) -> dict:
    """One gate's entry, its permutation null and, when inconclusive, the sample growth
    that would settle it."""
    entry = gate.measure(inputs, cfg)
    if gate.label_measure is not None and cfg.null_permutations > 0:
        entry["null"] = permutation_null(
            gate.label_measure(inputs, cfg),
            inputs.y,
            inputs.w,
            gate.rule,
            entry["threshold"],
            entry["value"],
            cfg.null_permutations,
            cfg.null_bootstrap,
            cfg.seed,
        )
    else:
        entry["null"] = None
    if entry["verdict"] == "inconclusive":
        entry["sample_size_factor"] = sample_size_factor(
            gate.rule, entry["value"], entry["ci_low"], entry["ci_high"], entry["threshold"]
        )
    return entry


def gate_line(name: str, g: Mapping[str, Any], n_pos: int, n_neg: int) -> str:
    """One gate in one line: value, interval, threshold, verdict, null p-value and, when
    inconclusive, the sample that would settle it."""
    text = (
        f"{name}: {g['value']:.3f} (95% CI {g['ci_low']:.3f} to {g['ci_high']:.3f}), "
        f"threshold {g['threshold']} -> {g['verdict'].upper()}"
    )
    null = g.get("null")
    if null and null.get("measured"):
        text += f"; null p = {null['p_value']:.3f}"
    factor = g.get("sample_size_factor")
    if g["verdict"] == "inconclusive" and factor is not None and np.isfinite(factor):
        text += (
            f"; the interval straddles the threshold: about {factor:.1f}x the sample "
            f"(~{int(np.ceil(factor * n_pos))} lenses, ~{int(np.ceil(factor * n_neg))} "
            "non-lenses) would settle it"
        )
    elif g["verdict"] == "inconclusive":
        text += "; the interval straddles the threshold"
    return text


def failure_message(report: Mapping[str, Any]) -> str:
    """The gates that stop the run (failed, or inconclusive as ``inconclusive`` says),
    each with its value, interval, threshold and verdict."""
    n_pos, n_neg = report["n_positive"], report["n_negative"]
    lines = [gate_line(name, report["gates"][name], n_pos, n_neg) for name in report["blocking"]]
    rule = report["inconclusive_rule"]
    return (
        "shortcut gates stopped the run; training will not start (set "
        "shortcut_gates.enforce: false to record and continue, for ablations; "
        f"inconclusive gates are handled by shortcut_gates.inconclusive: {rule}). "
        f"n_positive={n_pos}, n_negative={n_neg}:\n  " + "\n  ".join(lines)
    )
