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
from stronglens_calibration.mock.population import draw_population, draw_scan_region

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
    cfg = MockSurveyConfig.from_params(params)
    truth = draw_population(lenscat, cfg).assign(region="train")
    if cfg.scan_region.enabled:
        scan = draw_scan_region(lenscat, cfg, first_render_index=len(truth))
        truth = pd.concat([truth, scan], ignore_index=True)
    return truth


def _region(truth: pd.DataFrame, region: str) -> pd.DataFrame:
    """The rows of one region (the training sample ``train`` or the ``scan`` region)."""
    if "region" not in truth:
        return truth if region == "train" else truth.iloc[:0]
    return truth[truth["region"] == region].reset_index(drop=True)


def write_lenscat_catalogue(
    lenscat: pd.DataFrame, truth: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The lenscat CSV the ingest pipeline reads, with duplicated rows as real files have."""
    return lenscat_with_duplicates(
        lenscat, _region(truth, "train"), MockSurveyConfig.from_params(params)
    )


def write_sweep_catalogues(truth: pd.DataFrame, params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """DR10 sweep-format catalogues, one partition per 10 x 5 deg sweep file."""
    tables = sweep_tables(_region(truth, "train"), MockSurveyConfig.from_params(params))
    logger.info("%d sweep files, %d rows", len(tables), sum(len(t) for t in tables.values()))
    return tables


def render_cutouts(truth: pd.DataFrame, params: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    """Cutout files (FITS and legacy NPZ), rendered lazily and in parallel while Kedro saves."""
    cfg = MockSurveyConfig.from_params(params)
    train = _region(truth, "train")
    records = train[train["file_format"] != ""].to_dict("records")
    return lazy_cutout_files(records, cfg)


def write_scan_sweeps(truth: pd.DataFrame, params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The scan region's sweep files (its galaxies and hidden lenses alike)."""
    scan = _region(truth, "scan")
    if scan.empty:
        return {}
    return sweep_tables(scan, MockSurveyConfig.from_params(params), duplicate_rows=False)


def render_scan_cutouts(
    truth: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Callable[[], bytes]]:
    """The scan region's cutout-service files, rendered lazily and in parallel."""
    scan = _region(truth, "scan")
    return lazy_cutout_files(scan.to_dict("records"), MockSurveyConfig.from_params(params))


def plot_mock_examples(
    truth: pd.DataFrame, cutouts: dict[str, Callable[[], bytes]], params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """Example lenses, confusers and galaxies (:func:`~.mock.plots.mock_examples_figure`)."""
    from stronglens_calibration.mock.plots import mock_examples_figure

    return mock_examples_figure(
        _region(truth, "train"), cutouts, MockSurveyConfig.from_params(params)
    )


def measure_mock_realism(
    truth: pd.DataFrame, cutouts: dict[str, Callable[[], bytes]], params: dict[str, Any]
) -> tuple[pd.DataFrame, matplotlib.figure.Figure]:
    """The mock's lenses and non-lenses measured as real DR10 candidates were, beside the
    real figures (:func:`~.mock.realism_report.mock_realism`), and their figure; logs
    every quantity whose mock median falls outside the real range."""
    from stronglens_calibration.mock.realism_report import mock_realism, realism_figure

    cfg = MockSurveyConfig.from_params(params)
    table = mock_realism(_region(truth, "train"), cutouts, cfg, cfg.realism_n_per_class)
    if table.empty:
        logger.warning("mock realism: no stamp with a file of its own to measure")
    for rec in table[~table["median_inside"]].to_dict("records"):
        logger.warning(
            "mock %s: median %s %s = %.4g outside the real range [%.4g, %.4g]",
            rec["mock_class"],
            rec["quantity"],
            rec["band"],
            rec["mock_p50"],
            rec["check_low"],
            rec["check_high"],
        )
    logger.info(
        "mock realism: %d of %d medians inside the real DR10 ranges",
        int(table["median_inside"].sum()),
        len(table),
    )
    return table, realism_figure(table)
