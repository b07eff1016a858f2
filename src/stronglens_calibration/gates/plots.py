"""Figures of the shortcut gates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.gates.registry import GATES
from stronglens_calibration.gates.verdicts import pass_region

#: Colours of the three verdicts.
VERDICT_COLOURS = {"pass": "#228833", "inconclusive": "#ee7733", "fail": "#cc3311"}


def gate_diagnostics_figure(
    sample: pd.DataFrame, report: Mapping[str, Any], core_radius_px: float, split: str
) -> matplotlib.figure.Figure:
    """Core-flux distributions per class, and each gate's value against its threshold.

    Parameters
    ----------
    sample : pandas.DataFrame
        The gate sample (``label``, ``sample_weight``, ``core_flux_r`` in nanomaggies).
    report : Mapping
        The data-gate report (:func:`~.data_gates.run_data_gates`).
    core_radius_px : float
        Core aperture radius in pixels (axis label).
    split : str
        The split the gates looked at (title).
    """
    names = list(report["gates"])
    n_rows = len(names) + 1
    fig = matplotlib.figure.Figure(figsize=(13, max(4.6, 0.75 * n_rows + 1.0)))
    grid = fig.add_gridspec(n_rows, 2, width_ratios=[1, 1.3], hspace=0.9)
    ax0 = fig.add_subplot(grid[:, 0])
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
    ax0.set_xlabel(f"r-band core flux, r < {core_radius_px} px [nanomaggies]")
    ax0.set_ylabel("density")
    ax0.legend(fontsize=8)
    ax0.set_title(f"gate sample: {split} split", fontsize=10)
    for i, name in enumerate(names):
        g = report["gates"][name]
        ax = fig.add_subplot(grid[i, 1])
        verdict = g.get("verdict", "pass" if g["passed"] else "fail")
        colour = VERDICT_COLOURS[verdict]
        null = g.get("null") or {}
        ends = [g["value"], g["ci_low"], g["ci_high"]]
        if null.get("measured"):
            q = null["quantiles"]
            ax.axvspan(q["2.5"], q["97.5"], color="0.85", lw=0)
            ends += [q["2.5"], q["97.5"]]
        _interval(ax, g, 0.0, "o", colour)
        rule = GATES[name].rule if name in GATES else "max"
        thr = [e for e in pass_region(rule, g["threshold"]) if np.isfinite(e)]
        for t in thr:
            ax.plot([t, t], [-0.45, 0.45], color="black", lw=2)
        ends += thr
        finite = [e for e in ends if np.isfinite(e)]
        span = max(finite) - min(finite) or 1.0
        ax.set_xlim(min(finite) - 0.15 * span, max(finite) + 0.15 * span)
        ax.set_ylim(-0.6, 0.6)
        ax.set_yticks([])
        p_text = f", null p = {null['p_value']:.2f}" if null.get("measured") else ""
        ax.set_title(
            f"{name}: {g['value']:.3f} {verdict.upper()}{p_text}",
            fontsize=8,
            color=colour,
            loc="left",
        )
        ax.tick_params(labelsize=7)
    diag = report["diagnostics"]["core_auc_at_diagnostic_radius"]
    ax = fig.add_subplot(grid[len(names), 1])
    _interval(ax, diag, 0.0, "s", "grey")
    ax.set_ylim(-0.6, 0.6)
    ax.set_yticks([])
    ax.tick_params(labelsize=7)
    ax.set_title(
        f"diagnostic (no gate): core AUC r < {diag['core_radius_px']:g} px, {diag['value']:.3f}",
        fontsize=8,
        loc="left",
    )
    ax.set_xlabel(
        "value with 95 % bootstrap interval; black bars: thresholds; grey band: 95 % of "
        "the label-shuffle null",
        fontsize=8,
    )
    overall = report.get("verdict", "pass" if report["passed"] else "fail")
    fig.suptitle(f"shortcut gates: {overall.upper()}", fontsize=11)
    return fig


def _interval(ax: Any, g: dict[str, Any], y: float, marker: str, colour: str) -> None:
    """A value and its 95 % interval on row ``y``. The interval is drawn as it is: the
    bootstrap interval of a maximum (gate 1.5's largest |d|) can lie wholly above the
    point estimate, which error bars around the value cannot show."""
    ax.plot([g["ci_low"], g["ci_high"]], [y, y], color=colour, lw=1.5)
    for end in (g["ci_low"], g["ci_high"]):
        ax.plot([end, end], [y - 0.12, y + 0.12], color=colour, lw=1.5)
    ax.plot([g["value"]], [y], marker, color=colour)
