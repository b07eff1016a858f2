"""Nodes of the ``mock_survey`` pipeline."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.figure
import pandas as pd

from stronglens_calibration.catalogues.lenscat import LENSCAT_COLUMNS
from stronglens_calibration.mock.batch import lazy_cutout_files
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import (
    lenscat_with_duplicates,
    sweep_tables,
)
from stronglens_calibration.mock.population import draw_population

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
    """Example lenses, confusers and galaxies (:func:`~.mock.plots.mock_examples_figure`)."""
    from stronglens_calibration.mock.plots import mock_examples_figure

    return mock_examples_figure(truth, cutouts, MockSurveyConfig.from_params(params))
