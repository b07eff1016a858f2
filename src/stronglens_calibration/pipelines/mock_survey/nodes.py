"""Nodes of the ``mock_survey`` pipeline."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.lenscat import LENSCAT_COLUMNS
from stronglens_calibration.mock.batch import lazy_cutout_files
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import (
    cutout_filename,
    lenscat_with_duplicates,
    sweep_tables,
)
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.stamps.display import rgb_composite
from stronglens_calibration.stamps.formats import decode_stamp

logger = logging.getLogger(__name__)


def read_lenscat_package_catalogue() -> pd.DataFrame:
    """The lenscat catalogue as the ``lenscat`` package ships it (no network).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, RA [deg], DEC [deg], zlens, type, grading, ref``.
    """
    spec = importlib.util.find_spec("lenscat")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the 'lenscat' package is not installed; pip install lenscat")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "catalog.csv"
    table = pd.read_csv(path, dtype={"zlens": str})
    missing = [c for c in LENSCAT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks lenscat column(s) {missing}")
    logger.info("lenscat catalogue: %d entries from %s", len(table), path)
    return table[list(LENSCAT_COLUMNS)]


def draw_mock_population(lenscat: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Draw every mock object (see :func:`~stronglens_calibration.mock.population.draw_population`).

    Returns
    -------
    pandas.DataFrame
        The population table (``mock_truth``); only tests and benchmarks read it.
    """
    return draw_population(lenscat, MockSurveyConfig.from_params(params))


def write_lenscat_catalogue(
    lenscat: pd.DataFrame, truth: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The lenscat CSV the ingest pipeline reads, with duplicated rows as real files have."""
    return lenscat_with_duplicates(lenscat, truth, MockSurveyConfig.from_params(params))


def write_sweep_catalogues(truth: pd.DataFrame, params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """DR10 sweep-format catalogues, one partition per 10 x 5 deg sweep file."""
    tables = sweep_tables(truth, MockSurveyConfig.from_params(params))
    logger.info("%d sweep files, %d rows", len(tables), sum(len(t) for t in tables.values()))
    return tables


def render_cutouts(truth: pd.DataFrame, params: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    """Cutout files (FITS and legacy NPZ), rendered lazily and in parallel while Kedro saves."""
    cfg = MockSurveyConfig.from_params(params)
    records = truth[truth["file_format"] != ""].to_dict("records")
    return lazy_cutout_files(records, cfg)


def plot_mock_examples(
    truth: pd.DataFrame, cutouts: dict[str, Callable[[], bytes]], params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """A grid of example positives (top rows) and negatives as g, r, z composites.

    The stamps are read back from the written files with the same decoder ingest uses.
    """
    cfg = MockSurveyConfig.from_params(params)
    n = cfg.example_grid["n_per_class"]
    crop = cfg.example_grid["crop"]
    rng = np.random.default_rng([cfg.seed, 9])
    full_depth = np.all([truth[f"nobs_{b}"] > 0 for b in cfg.stamp.bands], axis=0)
    own_file = truth["file_format"].isin(["fits", "npz_cutout", "npz_bands"])
    clean = truth[(truth["defect"] == "") & own_file & full_depth]
    lenses = clean[clean["kind"] == "lens"]
    galaxies = clean[clean["kind"] == "galaxy"]
    confusers = galaxies[galaxies["confuser"] != ""]
    plain = galaxies[galaxies["confuser"] == ""]
    picks = [
        ("lens", lenses.iloc[rng.choice(len(lenses), min(n, len(lenses)), replace=False)]),
        (
            "confuser",
            confusers.iloc[rng.choice(len(confusers), min(n, len(confusers)), replace=False)],
        ),
        ("galaxy", plain.iloc[rng.choice(len(plain), min(n, len(plain)), replace=False)]),
    ]
    fig = matplotlib.figure.Figure(figsize=(2.0 * n, 2.25 * len(picks)))
    axes = fig.subplots(len(picks), n, squeeze=False)
    for row_axes, (label, rows) in zip(axes, picks, strict=True):
        for ax in row_axes:
            ax.set_axis_off()
        for ax, rec in zip(row_axes, rows.to_dict("records"), strict=False):
            name = cutout_filename(rec)
            stamp = decode_stamp(cutouts[name](), name).pixels
            if crop < stamp.shape[-1]:
                lo = (stamp.shape[-1] - crop) // 2
                stamp = stamp[:, lo : lo + crop, lo : lo + crop]
            ax.imshow(
                rgb_composite(
                    stamp, cfg.example_grid["lupton_q"], cfg.example_grid["lupton_stretch"]
                ),
                origin="lower",
            )
            if label == "lens":
                title = (
                    f'tier {rec["tier"]}  θE={rec["theta_e"]:.1f}"\nr_arc={rec["lensed_mag_r"]:.1f}'
                )
            elif label == "confuser":
                title = f"non-lens: {rec['confuser']}\nr={rec['mag_r']:.1f}"
            else:
                title = f"non-lens\nr={rec['mag_r']:.1f}"
            ax.set_title(title, fontsize=8)
    size = min(crop, cfg.stamp.size) * cfg.stamp.pixel_scale
    fig.suptitle(
        f'mock DR10 survey: lenses (top), confusers, ordinary galaxies; {size:.1f}" stamps, '
        "g,r,z Lupton composites",
        fontsize=10,
    )
    return fig
