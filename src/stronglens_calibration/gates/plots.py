"""Figures of the shortcut gates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd


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
    ax0.set_xlabel(f"r-band core flux, r < {core_radius_px} px [nanomaggies]")
    ax0.set_ylabel("density")
    ax0.legend(fontsize=8)
    ax0.set_title(f"gate sample: {split} split", fontsize=10)
    names = list(report["gates"])
    for i, name in enumerate(names):
        g = report["gates"][name]
        colour = "#228833" if g["passed"] else "#cc3311"
        _interval(ax1, g, i, "o", colour)
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
    _interval(ax1, diag, len(names), "s", "grey")
    ax1.set_yticks(
        range(len(names) + 1),
        [*names, f"diagnostic: core AUC r < {diag['core_radius_px']:g} px (no gate)"],
        fontsize=8,
    )
    ax1.set_xlabel("value (95 % bootstrap interval); black bars: thresholds")
    ax1.set_title("shortcut gates " + ("passed" if report["passed"] else "FAILED"), fontsize=10)
    fig.tight_layout()
    return fig


def _interval(ax: Any, g: dict[str, Any], y: float, marker: str, colour: str) -> None:
    """A value and its 95 % interval on row ``y``. The interval is drawn as it is: the
    bootstrap interval of a maximum (gate 1.5's largest |d|) can lie wholly above the
    point estimate, which error bars around the value cannot show."""
    ax.plot([g["ci_low"], g["ci_high"]], [y, y], color=colour, lw=1.5)
    for end in (g["ci_low"], g["ci_high"]):
        ax.plot([end, end], [y - 0.12, y + 0.12], color=colour, lw=1.5)
    ax.plot([g["value"]], [y], marker, color=colour)
