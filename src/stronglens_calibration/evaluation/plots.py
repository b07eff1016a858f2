"""Figures of the evaluation: ROC, score histograms, reliability diagram, completeness
maps and a gallery. Built on ``matplotlib.figure.Figure`` (no global pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from stronglens_calibration.evaluation.calibration import reliability_table
from stronglens_calibration.stamps.display import rgb_composite
from stronglens_calibration.stamps.geometry import centre_crop

_NEG = "#4477aa"
#: Colours of the lens tiers, most confident first.
_TIERS = ("#cc3311", "#ee7733", "#aa3377", "#228833")


def roc_figure(candidates: pd.DataFrame, report: Mapping[str, Any]) -> matplotlib.figure.Figure:
    """ROC on the test split (log false-positive rate), operating points marked."""
    y = candidates["label"].to_numpy(int)
    s = candidates["logit"].to_numpy(float)
    fig = matplotlib.figure.Figure(figsize=(11, 4.6))
    ax0, ax1 = fig.subplots(1, 2)
    fpr, tpr, _ = roc_curve(y, s)
    n_neg = int((y == 0).sum())
    for ax, log in ((ax0, False), (ax1, True)):
        ax.plot(fpr, tpr, color="black", lw=1.8, drawstyle="steps-post")
        ax.set_xlabel("false-positive rate (test non-lenses)")
        ax.set_ylabel("true-positive rate (test lenses, Tier A + B)")
        ax.grid(alpha=0.3)
        for name, op in report["operating_points"].items():
            ax.plot(op["fpr"], op["tpr"], "o", ms=6, label=f"{name}: TPR {op['tpr']:.2f}")
        if log:
            ax.set_xscale("log")
            ax.set_xlim(0.5 / max(n_neg, 1), 1)
            ax.axvline(1 / max(n_neg, 1), color="grey", ls=":", lw=1)
            ax.text(1 / max(n_neg, 1), 0.02, " 1 / n_neg", color="grey", fontsize=8, rotation=90)
    ax0.set_title(
        f"AUC {report['auc']:.3f} [{report['auc_ci_low']:.3f}, {report['auc_ci_high']:.3f}]"
        f"  ({report['n_positive']} lenses, {n_neg} non-lenses)",
        fontsize=10,
    )
    ax1.set_title(f"TPR0 {report['tpr0']:.2f}, TPR10 {report['tpr10']:.2f}", fontsize=10)
    ax1.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def score_histograms(
    candidates: pd.DataFrame, thresholds: Mapping[str, float], tiers: Sequence[str]
) -> matplotlib.figure.Figure:
    """Calibrated probability per class and tier; negatives also per confuser category."""
    fig = matplotlib.figure.Figure(figsize=(11, 4.4))
    ax0, ax1 = fig.subplots(1, 2)
    bins = np.linspace(0, 1, 26)
    p = candidates["p_calibrated"]
    neg = candidates["label"] == 0
    groups = [
        ("non-lenses", neg, _NEG),
        *[
            (f"Tier {t}", (candidates["label"] == 1) & (candidates["tier"] == t), colour)
            for t, colour in zip(tiers, _TIERS * len(tiers), strict=False)
        ],
    ]
    for name, rows, colour in groups:
        ax0.hist(
            p[rows], bins=bins, histtype="step", lw=2, color=colour, label=f"{name} ({rows.sum()})"
        )
    cats = candidates.loc[neg, "confuser_category"].fillna("none").astype(str)
    for cat in sorted(cats.unique()):
        rows = cats == cat
        ax1.hist(p[neg][rows], bins=bins, histtype="step", lw=1.5, label=f"{cat} ({rows.sum()})")
    for ax in (ax0, ax1):
        ax.set_yscale("log")
        ax.set_xlabel("calibrated lens probability (labelled-sample prevalence)")
        ax.set_ylabel("objects")
        for name, t in thresholds.items():
            if name.startswith("p_gt"):
                ax.axvline(t, color="grey", ls="--", lw=1)
        ax.legend(fontsize=8)
    ax0.set_title("test split by class and tier", fontsize=10)
    ax1.set_title("test non-lenses by confuser category", fontsize=10)
    fig.tight_layout()
    return fig


def reliability_figure(
    labels: np.ndarray, before: np.ndarray, after: np.ndarray, n_bins: int, ece: Mapping[str, Any]
) -> matplotlib.figure.Figure:
    """Reliability diagram (equal-mass bins, Jeffreys intervals) before and after scaling."""
    fig = matplotlib.figure.Figure(figsize=(11, 4.8))
    axes = fig.subplots(1, 2)
    for ax, p, name in ((axes[0], before, "before"), (axes[1], after, "after")):
        t = reliability_table(p, labels, n_bins)
        ok = t["n"] > 0
        ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
        ax.errorbar(
            t["p_mean"][ok],
            t["fraction"][ok],
            yerr=[
                t["fraction"][ok] - t["fraction_low"][ok],
                t["fraction_high"][ok] - t["fraction"][ok],
            ],
            fmt="o-",
            color="black",
            capsize=3,
        )
        inset = ax.inset_axes([0.6, 0.08, 0.37, 0.25])
        inset.hist(p, bins=np.linspace(0, 1, 21), color="#bbbbbb")
        inset.set_yscale("log")
        inset.tick_params(labelsize=6)
        e = ece[name]
        ax.set_title(
            f"{name} temperature scaling: ECE {e['overall']:.3f} "
            f"(positives {e['positives']:.3f}, negatives {e['negatives']:.3f})",
            fontsize=9,
        )
        ax.set_xlabel("mean predicted probability (equal-mass bins)")
        ax.set_ylabel("observed lens fraction (Jeffreys 95 %)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig


def completeness_figure(
    selection: pd.DataFrame, operating_points: Sequence[str]
) -> matplotlib.figure.Figure:
    """Completeness per (theta_E, lensed r magnitude) cell: rows operating points, columns
    PSF bins; each cell prints ``k/n``."""
    psf_bins = sorted(selection["psf_bin"].unique())
    fig = matplotlib.figure.Figure(
        figsize=(4.6 * len(psf_bins) + 1.2, 3.4 * len(operating_points)), layout="constrained"
    )
    axes = np.atleast_2d(
        fig.subplots(len(operating_points), len(psf_bins), squeeze=False, sharex=True, sharey=True)
    )
    image = None
    for r, op in enumerate(operating_points):
        for c, k in enumerate(psf_bins):
            ax = axes[r, c]
            cell = selection[(selection["operating_point"] == op) & (selection["psf_bin"] == k)]
            te = np.unique(np.r_[cell["theta_e_low"], cell["theta_e_high"]])
            me = np.unique(np.r_[cell["mag_low"], cell["mag_high"]])
            grid = np.full((len(me) - 1, len(te) - 1), np.nan)
            for row in cell.itertuples():
                i, j = int(row.mag_bin), int(row.theta_e_bin)
                grid[i, j] = row.completeness
                ax.text(
                    0.5 * (row.theta_e_low + row.theta_e_high),
                    0.5 * (row.mag_low + row.mag_high),
                    f"{row.k}/{row.n}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if row.completeness < 0.5 else "black",
                )
            image = ax.pcolormesh(te, me, grid, vmin=0, vmax=1, cmap="viridis")
            if r == 0 and c == 0:
                ax.invert_yaxis()  # the axes are shared: once inverts them all
            fw = cell[["fwhm_low", "fwhm_high"]].iloc[0] if len(cell) else (np.nan, np.nan)
            ax.set_title(f'{op}; PSF FWHM_r {fw.iloc[0]:.2f}-{fw.iloc[1]:.2f}"', fontsize=9)
            if r == len(operating_points) - 1:
                ax.set_xlabel("Einstein radius [arcsec]")
            if c == 0:
                ax.set_ylabel("lensed r magnitude [AB]")
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), label="completeness")
    return fig


def gallery_figure(
    panels: Sequence[tuple[str, Sequence[tuple[np.ndarray, str]]]],
    q: float,
    stretch: float,
    crop: int,
) -> matplotlib.figure.Figure:
    """Rows of g, r, z composites, each row a titled group of ``(stamp, caption)``."""
    ncol = max(len(items) for _, items in panels)
    fig = matplotlib.figure.Figure(figsize=(1.6 * ncol, 2.1 * len(panels)))
    axes = np.atleast_2d(fig.subplots(len(panels), ncol, squeeze=False))
    for r, (title, items) in enumerate(panels):
        for c in range(ncol):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(items):
                ax.set_axis_off()
                continue
            stamp, caption = items[c]
            view = centre_crop(stamp, min(crop, stamp.shape[-1]))
            ax.imshow(rgb_composite(view, q, stretch), origin="lower")
            ax.set_title(caption, fontsize=6)
        axes[r, 0].set_ylabel(title, fontsize=8)
    fig.tight_layout()
    return fig


def candidate_panels(
    candidates: pd.DataFrame,
    objects: pd.DataFrame,
    stamps: Mapping[str, Any],
    n_per_row: int,
) -> list[tuple[str, list[tuple[np.ndarray, str]]]]:
    """The gallery's rows: the top-ranked test objects, the highest-scoring non-lenses
    and the lowest-scoring lenses (what a visual inspector would be sent first).

    Returns
    -------
    list
        ``(title, [(stamp (3, H, W), caption), ...])`` per row.
    """
    from stronglens_calibration.stamps.reading import read_stamps

    ranked = candidates[candidates["scored"]]
    test = objects[(objects["split"] == "test") & objects["cutout_ok"]].set_index("object_id")
    n = n_per_row
    panels = []
    for title, rows in (
        ("top-ranked test objects", ranked.head(n)),
        ("highest-scoring non-lenses", ranked[ranked["label"] == 0].head(n)),
        ("lowest-scoring lenses", ranked[ranked["label"] == 1].tail(n)[::-1]),
    ):
        if rows.empty:
            continue
        pix = read_stamps(test.loc[rows["object_id"]], stamps)
        items = []
        for stamp, r in zip(pix, rows.itertuples(), strict=True):
            kind = f"lens {r.tier}" if r.label == 1 else f"non-lens ({r.confuser_category})"
            where = f"{r.ra:.4f} {r.dec:+.4f}" if hasattr(r, "ra") else str(r.object_id)
            items.append((stamp, f"#{r.rank} p={r.p_calibrated:.2f}\n{kind}\n{where}"))
        panels.append((title, items))
    return panels
