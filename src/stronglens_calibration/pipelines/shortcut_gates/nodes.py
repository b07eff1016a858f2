"""Nodes of the ``shortcut_gates`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

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
