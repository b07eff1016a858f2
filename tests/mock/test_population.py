"""The mock population: deterministic, positives at lenscat positions, no position shortcut."""

import copy

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from stronglens_calibration.catalogues.lenscat import select_candidates
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue
from stronglens_calibration.sky.matching import nearest_neighbour


@pytest.fixture(scope="module")
def lenscat() -> pd.DataFrame:
    return read_lenscat_package_catalogue()


def test_population_is_deterministic_for_a_seed(lenscat, mock_params):
    cfg = MockSurveyConfig.from_params(mock_params)
    a, b = draw_population(lenscat, cfg), draw_population(lenscat, cfg)
    pd.testing.assert_frame_equal(a, b)
    other = copy.deepcopy(mock_params)
    other["seed"] += 1
    c = draw_population(lenscat, MockSurveyConfig.from_params(other))
    assert not np.allclose(a["ra"], c["ra"])


def test_positives_are_lenscat_desi_candidates_with_tiers(lenscat, mock_params):
    cfg = MockSurveyConfig.from_params(mock_params)
    truth = draw_population(lenscat, cfg)
    lenses = truth[truth["kind"] == "lens"]
    cands = select_candidates(lenscat, cfg.ref_patterns, cfg.name_patterns)
    assert set(lenses["lenscat_name"]) <= set(cands["name"])
    assert (lenses["tier"] == "A").sum() == round(cfg.n_positives * cfg.tier_a_fraction)
    by_name = cands.set_index("name")
    np.testing.assert_allclose(lenses["ra"], by_name.loc[lenses["lenscat_name"], "RA [deg]"])
    assert set(lenses["tier"]) == {"A", "B"}
    assert set(truth.loc[truth["kind"] != "lens", "tier"]) == {""}


def test_negatives_follow_positive_declinations_and_avoid_lenscat(lenscat, mock_params):
    params = copy.deepcopy(mock_params)
    params["n_positives"] = 400
    cfg = MockSurveyConfig.from_params(params)
    truth = draw_population(lenscat, cfg)
    pos = truth[truth["kind"] == "lens"]
    neg = truth[truth["kind"] == "galaxy"]
    # position is not a shortcut: the declination distributions agree
    assert ks_2samp(pos["dec"], neg["dec"]).pvalue > 0.01
    _, sep = nearest_neighbour(
        neg["ra"].to_numpy(),
        neg["dec"].to_numpy(),
        lenscat["RA [deg]"].to_numpy(),
        lenscat["DEC [deg]"].to_numpy(),
    )
    assert sep.min() >= cfg.sky.min_separation_from_lenscat_arcsec


def test_lens_galaxies_share_one_distribution(lenscat, mock_params):
    params = copy.deepcopy(mock_params)
    params["n_positives"] = 400
    truth = draw_population(lenscat, MockSurveyConfig.from_params(params))
    pos, neg = truth[truth["kind"] == "lens"], truth[truth["kind"] == "galaxy"]
    for col in ("mag_r", "g_minus_r", "sersic_n", "r_eff", "fwhm_r", "depth_factor"):
        assert ks_2samp(pos[col], neg[col]).pvalue > 0.01, col


def test_shortcut_mode_brightens_lens_cores_and_arcs(lenscat, mock_params):
    normal = draw_population(lenscat, MockSurveyConfig.from_params(mock_params))
    params = copy.deepcopy(mock_params)
    params["shortcut"]["enabled"] = True
    bad = draw_population(lenscat, MockSurveyConfig.from_params(params))
    lens = normal["kind"] == "lens"
    core = 10 ** (-0.4 * (bad.loc[lens, "mag_r"] - normal.loc[lens, "mag_r"]))
    arcs = 10 ** (-0.4 * (bad.loc[lens, "lensed_mag_r"] - normal.loc[lens, "lensed_mag_r"]))
    np.testing.assert_allclose(core, 1.64)
    np.testing.assert_allclose(arcs, 9.0)
    pd.testing.assert_frame_equal(normal[~lens], bad[~lens])


def test_every_defect_appears_at_its_rate(lenscat, mock_params):
    params = copy.deepcopy(mock_params)
    params["defects"].update(nan_stamp_rate=0.1, missing_band_rate=0.05, truncated_file_rate=0.05)
    truth = draw_population(lenscat, MockSurveyConfig.from_params(params))
    rendered = (truth["kind"] != "star").sum()
    counts = truth["defect"].value_counts()
    assert counts["nan"] + counts["nan_core"] == round(0.1 * rendered)
    assert counts["missing_band"] == round(0.05 * rendered)
    assert counts["truncated"] == round(0.05 * rendered)
    # a rate > 0 always gives at least one defect, however small the survey
    small = draw_population(lenscat, MockSurveyConfig.from_params(mock_params))
    assert {"missing_band", "truncated"} <= set(small["defect"])
    assert (truth.loc[truth["kind"] == "star", "file_format"] == "").all()


@pytest.mark.parametrize(
    ("path", "value", "error", "match"),
    [
        (("n_positives",), -5, ValueError, "mock_survey.n_positives"),
        (("stamp", "size"), -101, ValueError, "mock_survey.stamp.size"),
        (("stamp", "size"), 100, ValueError, "mock_survey.stamp.size"),
        (("stamp", "bands"), ["g", "r", "y"], ValueError, "mock_survey.stamp.bands"),
        (("tier_a_fraction",), 1.5, ValueError, "mock_survey.tier_a_fraction"),
        (("confusers", "fraction"), -0.1, ValueError, "mock_survey.confusers.fraction"),
        (("defects", "nan_stamp_rate"), 2.0, ValueError, "mock_survey.defects.nan_stamp_rate"),
        (
            ("lens_galaxy", "ser_sersic_n"),
            [6.0, 1.5],
            ValueError,
            "mock_survey.lens_galaxy.ser_sersic_n",
        ),
        (
            ("noise", "sky_sigma"),
            {"g": 0.001, "r": 0.002},
            ValueError,
            "mock_survey.noise.sky_sigma",
        ),
        (("shortcut", "enabled"), "yes", ValueError, "mock_survey.shortcut.enabled"),
        (("confusers", "weights"), {"donut": 1.0}, ValueError, "mock_survey.confusers.weights"),
    ],
)
def test_bad_parameters_name_themselves(mock_params, path, value, error, match):
    params = copy.deepcopy(mock_params)
    target = params
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(error, match=match):
        MockSurveyConfig.from_params(params)


def test_too_many_positives_for_lenscat_is_refused(lenscat, mock_params):
    params = copy.deepcopy(mock_params)
    params["n_positives"] = 100_000
    with pytest.raises(ValueError, match="n_positives"):
        draw_population(lenscat, MockSurveyConfig.from_params(params))
