"""Rendered stamps: DR10 noise, units, reproducibility, NaN defects."""

import copy

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import encode_cutout
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.mock.render import render_object
from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue

DR10_SKY_SIGMA = {"g": 0.0018, "r": 0.0026, "z": 0.0083}


@pytest.fixture(scope="module")
def lenscat() -> pd.DataFrame:
    return read_lenscat_package_catalogue()


@pytest.fixture
def population(lenscat, mock_params):
    cfg = MockSurveyConfig.from_params(mock_params)
    return cfg, draw_population(lenscat, cfg)


def test_sky_noise_matches_dr10_per_band(population):
    cfg, truth = population
    rows = truth[(truth["kind"] != "star") & (truth["defect"] == "")]
    rows = rows[(rows[["nobs_g", "nobs_r", "nobs_z"]] > 0).all(axis=1)]
    stamps = np.stack([render_object(r, cfg) for r in rows.to_dict("records")])
    yy, xx = np.indices(stamps.shape[-2:])
    c = stamps.shape[-1] // 2
    outer = np.hypot(yy - c, xx - c) > 40
    for i, band in enumerate(cfg.stamp.bands):
        pix = stamps[:, i, outer]
        mad = np.median(np.abs(pix - np.median(pix, axis=1, keepdims=True)), axis=1)
        sigma = float(np.median(1.4826 * mad))
        assert sigma == pytest.approx(DR10_SKY_SIGMA[band], rel=0.2), band


def test_stamps_follow_the_data_contract(population):
    cfg, truth = population
    row = truth[(truth["kind"] == "lens") & (truth["defect"] == "")].iloc[0]
    stamp = render_object(row, cfg)
    assert stamp.dtype == np.float32
    assert stamp.shape == (3, 101, 101)
    # the object sits on the centre pixel: without its neighbours (which may be brighter)
    # and its arcs, the brightest pixel of the r band is within a pixel of it
    host = row.to_dict() | {"n_neighbours": 0, "n_stars": 0, "kind": "galaxy"}
    alone = render_object(host, cfg)
    peak = np.unravel_index(np.nanargmax(alone[1]), alone[1].shape)
    assert abs(peak[0] - 50) <= 1 and abs(peak[1] - 50) <= 1


def test_rendering_is_reproducible_byte_for_byte(population):
    cfg, truth = population
    for row in truth[truth["kind"] != "star"].head(6).to_dict("records"):
        a = encode_cutout(row, render_object(row, cfg), cfg)
        b = encode_cutout(row, render_object(row, cfg), cfg)
        assert a == b


def test_lenses_differ_from_their_lens_galaxy_only_by_arcs(population):
    cfg, truth = population
    row = truth[(truth["kind"] == "lens") & (truth["defect"] == "")].iloc[0].to_dict()
    with_arcs = render_object(row, cfg)
    row_no_arcs = dict(row, kind="galaxy")
    without = render_object(row_no_arcs, cfg)
    arc_flux = (with_arcs - without)[1].sum()
    expected = 10 ** ((22.5 - row["lensed_mag_r"]) / 2.5)
    assert arc_flux == pytest.approx(expected, rel=0.05)


def test_nan_defects_put_nan_in_the_core_or_elsewhere(population):
    cfg, truth = population
    for defect in ("nan", "nan_core"):
        row = dict(truth[truth["kind"] == "galaxy"].iloc[0], defect=defect)
        stamp = render_object(row, cfg)
        core = stamp[:, 45:56, 45:56]
        assert np.isnan(stamp).any()
        assert np.isnan(core).any() == (defect == "nan_core")


def test_band_without_exposures_is_empty(population):
    cfg, truth = population
    row = dict(truth[truth["kind"] == "galaxy"].iloc[0], nobs_z=0, defect="")
    stamp = render_object(row, cfg)
    assert (stamp[2] == 0).all() and (stamp[1] != 0).any()


def test_confusers_keep_a_lens_like_core(lenscat, mock_params):
    params = copy.deepcopy(mock_params)
    params["confusers"]["fraction"] = 1.0
    cfg = MockSurveyConfig.from_params(params)
    truth = draw_population(lenscat, cfg)
    row = truth[(truth["confuser"] == "ring") & (truth["defect"] == "")].iloc[0].to_dict()
    plain = dict(row, confuser="")
    a, b = render_object(row, cfg), render_object(plain, cfg)
    core = np.s_[:, 48:53, 48:53]
    # the ring adds light around the core, little inside it
    assert (a - b)[core].sum() < 0.1 * b[core].sum()
    assert (a - b).sum() > 0.05 * b.sum()
