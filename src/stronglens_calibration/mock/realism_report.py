"""How close the mock survey is to real DR10: its stamps measured with the reference
definitions (:mod:`~stronglens_calibration.stamps.reference_measures`), beside the real
figures the project ships (:func:`~stronglens_calibration.reference.lens_candidate_reference`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.figure
import matplotlib.ticker
import numpy as np
import pandas as pd

from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import cutout_filename
from stronglens_calibration.reference import lens_candidate_reference
from stronglens_calibration.stamps.formats import decode_stamp
from stronglens_calibration.stamps.reference_measures import (
    compare_with_reference,
    measure_stamps,
)


def realism_sample(truth: pd.DataFrame, n_per_class: int, seed: int) -> pd.DataFrame:
    """Up to ``n_per_class`` lenses and as many non-lens galaxies of ``truth`` (the
    training sample's population rows), with a file of their own, no defect and every
    band exposed; the same rows for a seed."""
    if n_per_class < 1:
        raise ValueError(f"'n_per_class' must be >= 1, got {n_per_class}")
    rng = np.random.default_rng([seed, 41])
    full_depth = np.all([truth[f"nobs_{b}"] > 0 for b in ("g", "r", "z")], axis=0)
    clean = truth[
        (truth["defect"] == "")
        & truth["file_format"].isin(["fits", "npz_cutout", "npz_bands"])
        & full_depth
    ]
    picks = []
    for kind in ("lens", "galaxy"):
        rows = clean[clean["kind"] == kind]
        picks.append(rows.iloc[np.sort(rng.choice(len(rows), min(n_per_class, len(rows)), False))])
    return pd.concat(picks, ignore_index=True)


def mock_realism(
    truth: pd.DataFrame,
    cutouts: Mapping[str, Callable[[], bytes]],
    cfg: MockSurveyConfig,
    n_per_class: int,
) -> pd.DataFrame:
    """The reference table with the mock's lenses' and non-lenses' percentiles.

    The stamps are read back from the written files with the decoder ingest uses.

    Returns
    -------
    pandas.DataFrame
        One row per reference quantity and mock class (``mock_class``: ``lens`` or
        ``non-lens``): the real figures, ``mock_p5 / p50 / p95``, ``n_mock``, the range
        checked and ``median_inside``.
    """
    sample = realism_sample(truth, n_per_class, cfg.seed)
    reference = lens_candidate_reference()
    tables = []
    for kind, label in (("lens", "lens"), ("galaxy", "non-lens")):
        rows = sample[sample["kind"] == kind]
        if rows.empty:
            continue
        stamps = np.stack(
            [
                decode_stamp(cutouts[cutout_filename(r)](), cutout_filename(r)).pixels
                for r in rows.to_dict("records")
            ]
        )
        table = compare_with_reference(measure_stamps(stamps), reference)
        table.insert(0, "mock_class", label)
        tables.append(table)
    if not tables:  # e.g. every stamp inside parquet tables: nothing of its own to read
        columns = ["mock_class", *reference.columns, "mock_p5", "mock_p50", "mock_p95"]
        columns += ["n_mock", "check_low", "check_high", "median_inside"]
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)


def realism_figure(table: pd.DataFrame) -> matplotlib.figure.Figure:
    """Each quantity: the range checked (grey), the real median (black tick) and the
    mock's 5-95 % range with its median, lenses and non-lenses."""
    keys = table[["quantity", "band"]].drop_duplicates().to_numpy().tolist()
    if not keys:
        fig = matplotlib.figure.Figure(figsize=(6.0, 1.5))
        fig.text(0.5, 0.5, "no mock stamp with a file of its own to measure", ha="center")
        return fig
    fig = matplotlib.figure.Figure(figsize=(9.0, 1.0 + 0.55 * len(keys)))
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    colours = {"lens": "tab:red", "non-lens": "tab:blue"}
    for ax, (quantity, band) in zip(axes, keys, strict=True):
        rows = table[(table["quantity"] == quantity) & (table["band"] == band)]
        ref = rows.iloc[0]
        ax.axvspan(ref["check_low"], ref["check_high"], color="0.85")
        if np.isfinite(ref["real_median"]):
            ax.axvline(ref["real_median"], color="k", lw=1.5)
        for k, rec in enumerate(rows.to_dict("records")):
            y = 0.3 + 0.4 * k
            colour = colours.get(rec["mock_class"], "0.3")
            ax.plot([rec["mock_p5"], rec["mock_p95"]], [y, y], color=colour, lw=2)
            marker = "o" if rec["median_inside"] else "x"
            ax.plot(rec["mock_p50"], y, marker, color=colour, ms=6)
        if "flux" in quantity and rows[["mock_p5", "check_low"]].to_numpy().min() > 0:
            ax.set_xscale("log")  # fluxes span decades
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        label = f"{quantity} ({band})" if band else quantity
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    axes[0].set_title(
        "mock vs real DR10 lens candidates: grey = range checked, black = real median,\n"
        "lines = mock 5-95 % (red: lenses, blue: non-lenses), o = median inside, x = outside",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
