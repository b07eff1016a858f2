"""Nodes of the ``shortcut_gates`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.gates.data_gates import (
    GateConfig,
    failure_message,
    gate_sample,
    run_data_gates,
)

logger = logging.getLogger(__name__)

#: MLflow metric name of each gate.
METRIC_NAMES = {
    "gate_1_5_normalisation": "gate_1_5_max_abs_cohens_d",
    "gate_1_6_core_only": "gate_1_6_core_auc",
    "gate_1_8_core_brightness": "gate_1_8_core_ratio",
    "gate_radial_profile": "gate_radial_auc",
}


def measure_data_gates(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Measure the data gates on the training split.

    Returns
    -------
    report : dict
        ``gate_report.json``: per gate ``value``, ``ci_low``, ``ci_high``, ``threshold``,
        ``passed``; ``n_positive``, ``n_negative``.
    metrics : dict
        The same values as MLflow metrics (``gate_1_6_core_auc``, ..., ``gates_passed``).
    """
    cfg = GateConfig.from_params(params)
    report = run_data_gates(objects_split, stamps, cfg)
    report["enforce"] = cfg.enforce
    metrics = {
        METRIC_NAMES[k]: {"value": float(g["value"]), "step": 0} for k, g in report["gates"].items()
    }
    metrics["gates_passed"] = {"value": float(report["passed"]), "step": 0}
    return report, metrics


def enforce_data_gates(report: dict[str, Any]) -> bool:
    """Stop the run when a data gate failed and ``enforce`` is on (after the report and
    the metrics were saved); ``True`` lets training start."""
    if report["passed"]:
        logger.info("all data gates passed")
        return True
    message = failure_message(report)
    if report["enforce"]:
        raise RuntimeError(message)
    logger.warning("%s\n(enforce: false, continuing)", message)
    return False


def plot_gate_diagnostics(
    objects_split: pd.DataFrame, report: dict[str, Any], params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """Core-flux distributions per class, and each gate's value against its threshold."""
    cfg = GateConfig.from_params(params)
    sample = gate_sample(objects_split, cfg)
    fig = matplotlib.figure.Figure(figsize=(13, 4.6))
    ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    flux = sample["core_flux_r"].to_numpy(float)
    lo, hi = np.nanpercentile(flux[flux > 0], [0.5, 99.5]) if (flux > 0).any() else (1e-3, 1)
    bins = np.geomspace(max(lo, 1e-4), hi, 40)
    for label, name, colour in (
        (0, "non-lenses (matched weights)", "#4477aa"),
        (1, "lens candidates", "#cc3311"),
    ):
        rows = sample["label"] == label
        ax0.hist(
            flux[rows],
            bins=bins,
            weights=sample.loc[rows, "sample_weight"],
            density=True,
            histtype="step",
            lw=2,
            color=colour,
            label=f"{name} ({rows.sum()})",
        )
    ax0.set_xscale("log")
    ax0.set_xlabel(f"r-band core flux, r < {cfg.core_radius_px} px [nanomaggies]")
    ax0.set_ylabel("density")
    ax0.legend(fontsize=8)
    ax0.set_title(f"gate sample: {cfg.split} split", fontsize=10)
    names = list(report["gates"])
    for i, name in enumerate(names):
        g = report["gates"][name]
        colour = "#228833" if g["passed"] else "#cc3311"
        ax1.errorbar(
            [g["value"]],
            [i],
            xerr=[[g["value"] - g["ci_low"]], [g["ci_high"] - g["value"]]],
            fmt="o",
            color=colour,
            capsize=4,
        )
        thr = g["threshold"] if isinstance(g["threshold"], list) else [g["threshold"]]
        for t in thr:
            ax1.plot([t, t], [i - 0.3, i + 0.3], color="black", lw=2)
        ax1.text(
            g["value"],
            i + 0.25,
            f"{g['value']:.3f} {'pass' if g['passed'] else 'FAIL'}",
            ha="center",
            fontsize=8,
            color=colour,
        )
    diag = report["diagnostics"]["core_auc_at_diagnostic_radius"]
    ax1.errorbar(
        [diag["value"]],
        [len(names)],
        xerr=[[diag["value"] - diag["ci_low"]], [diag["ci_high"] - diag["value"]]],
        fmt="s",
        color="grey",
        capsize=4,
    )
    ax1.set_yticks(
        range(len(names) + 1),
        [*names, f"diagnostic: core AUC r < {diag['core_radius_px']:g} px (no gate)"],
        fontsize=8,
    )
    ax1.set_xlabel("value (95 % bootstrap interval); black bars: thresholds")
    ax1.set_title("shortcut gates " + ("passed" if report["passed"] else "FAILED"), fontsize=10)
    fig.tight_layout()
    return fig


def measure_model_gate(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Gate 1.7: validation positives with their arcs suppressed should no longer look
    like lenses (mean probability below the threshold).

    Returns
    -------
    report : dict
        ``value`` (mean probability after suppression), ``ci_low``, ``ci_high``,
        ``threshold``, ``passed``, ``mean_p_before``, ``n_positive``.
    metrics : dict
        ``gate_1_7_arc_suppressed_mean_p`` for MLflow.
    """
    import torch

    from stronglens_calibration.gates.arc_suppression import suppress_arcs
    from stronglens_calibration.gates.statistics import bootstrap
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.data import StampDataset

    p = ParamReader(params, "shortcut_gates")
    threshold = p.section("thresholds").number("arc_suppressed_mean_p", low=0, high=1)
    annulus = p.interval("arc_annulus_px", low=0)
    noise = p.interval("noise_annulus_px", low=0)
    seed = p.integer("seed")
    model, pre = from_artifact(lens_finder)
    val = StampDataset(objects_split[objects_split["label"] == 1], stamps, ("val",), pre)
    if len(val) == 0:
        raise ValueError("gate 1.7 needs validation positives; the val split has none")
    rows = val.table
    raw = np.stack([np.asarray(val._shard(int(r.shard))[int(r.offset)]) for r in rows.itertuples()])
    median = rows[[f"annulus_median_{b}" for b in "grz"]].to_numpy(np.float32)
    mad = rows[[f"annulus_mad_{b}" for b in "grz"]].to_numpy(np.float32)
    suppressed = suppress_arcs(raw, annulus, noise, np.random.default_rng(seed))

    def probabilities(stamps_raw: np.ndarray) -> np.ndarray:
        x = np.nan_to_num(pre(stamps_raw, median, mad))
        with torch.no_grad():
            return torch.sigmoid(model(torch.from_numpy(x))).numpy()

    before, after = probabilities(raw), probabilities(suppressed)
    value = float(after.mean())
    ci = bootstrap(
        lambda i: float(after[i].mean()),
        np.ones(len(after), dtype=int),
        p.integer("n_bootstrap", low=10),
        seed,
    )
    report = {
        "gate_1_7_arc_suppressed": {
            "value": value,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "threshold": threshold,
            "passed": bool(value < threshold),
            "mean_p_before": float(before.mean()),
            "arc_annulus_px": list(annulus),
        },
        "n_positive": int(len(after)),
        "split": "val",
        "passed": bool(value < threshold),
    }
    logger.info(
        "gate_1_7_arc_suppressed: mean p %.3f -> %.3f [%.3f, %.3f] threshold %s -> %s",
        before.mean(),
        value,
        ci[0],
        ci[1],
        threshold,
        "pass" if value < threshold else "FAIL",
    )
    metrics = {"gate_1_7_arc_suppressed_mean_p": {"value": value, "step": 0}}
    return report, metrics
