"""The mock against real DR10: the reference measures, the correlated coadd noise, the
clutter counts, the host population, and the mock's medians inside the real ranges."""

import copy

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.lensing.noise import coadd_noise_field, lanczos3_weights
from stronglens_calibration.mock.clutter import (
    CountsConfig,
    draw_galaxy_mags,
    galaxies_per_stamp,
    stars_per_stamp,
)
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.hosts import HostConfig, draw_hosts, lens_redshifts
from stronglens_calibration.mock.population import draw_population
from stronglens_calibration.mock.render import render_object
from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue
from stronglens_calibration.reference import (
    lens_candidate_reference,
    lrg_photometry,
    lrg_type_fractions,
)
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.reference_measures import (
    binning_ratio,
    compare_with_reference,
    measure_stamp,
    measure_stamps,
)

SKY = radius_map(101) > 40


@pytest.fixture(scope="module")
def lenscat() -> pd.DataFrame:
    return read_lenscat_package_catalogue()


# ---- the reference measures on stamps whose answer is known -------------------------


def test_white_noise_measures_as_white():
    rng = np.random.default_rng(1)
    ratios = [binning_ratio(rng.normal(0, 0.003, (101, 101)), SKY) for _ in range(40)]
    assert np.median(ratios) == pytest.approx(1.0, abs=0.03)


def test_neighbours_are_the_sources_besides_the_central_one():
    rng = np.random.default_rng(2)
    stamp = rng.normal(0, 0.002, (3, 101, 101))
    yy, xx = np.indices((101, 101))
    for y0, x0 in [(50, 50), (15, 20), (80, 75), (20, 85)]:  # the centre plus 3 others
        stamp += 0.05 * np.exp(-((yy - y0) ** 2 + (xx - x0) ** 2) / (2 * 2.0**2))
    m = measure_stamp(stamp.astype(np.float32))
    assert m["neighbours_r"] == 3
    assert m["sky_sigma_r"] == pytest.approx(0.002, rel=0.1)
    assert m["central_g_minus_r"] == pytest.approx(0.0, abs=0.05)  # same flux in g and r


# ---- correlated noise: per-pixel sigma and binning ratio -----------------------------


def test_lanczos_weights_interpolate():
    assert lanczos3_weights(0.0) == pytest.approx([0, 0, 1, 0, 0, 0], abs=1e-12)
    w = lanczos3_weights(0.5)
    assert w.sum() == pytest.approx(1.0) and w[2] == pytest.approx(w[3])


@pytest.mark.parametrize("n_exposures", [1, 4])
def test_coadd_noise_has_unit_sigma_and_dr10_correlation(n_exposures):
    rng = np.random.default_rng(3)
    fields = [coadd_noise_field((101, 101), n_exposures, 0.4, rng) for _ in range(60)]
    assert np.mean([f.std() for f in fields]) == pytest.approx(1.0, abs=0.02)
    ratio = np.median([binning_ratio(f, SKY) for f in fields])
    assert 1.15 <= ratio <= 1.39  # real DR10 coadds (shipped reference)
    white = np.median([binning_ratio(coadd_noise_field((101, 101), 1, 0.0, rng), SKY)])
    assert white < ratio  # the charge diffusion adds to the resampling's correlation


def test_coadd_noise_is_deterministic_for_a_seed():
    a = coadd_noise_field((31, 31), 3, 0.4, np.random.default_rng(9))
    b = coadd_noise_field((31, 31), 3, 0.4, np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)


# ---- clutter counts --------------------------------------------------------------------

COUNTS = CountsConfig((16.0, 25.0), 2800.0, 0.45, 0.33, 21.0, (16.0, 23.0), 1500.0, 5.0)


def test_galaxy_counts_integrate_the_two_power_laws():
    area = 1.0
    m = np.linspace(16, 25, 200001)
    dn = np.where(
        m < 21,
        2800 * 10 ** (0.45 * (m - 20)),
        2800 * 10 ** (0.45 * 1) * 10 ** (0.33 * (m - 21)),
    )
    expected = np.trapezoid(dn, m)
    assert galaxies_per_stamp(area, COUNTS) == pytest.approx(expected, rel=1e-4)


def test_drawn_magnitudes_follow_the_counts():
    mags = draw_galaxy_mags(200_000, COUNTS, np.random.default_rng(4))
    bright = CountsConfig((16.0, 21.0), *list(COUNTS.__dict__.values())[1:])
    expected = galaxies_per_stamp(1.0, bright) / galaxies_per_stamp(1.0, COUNTS)
    assert np.mean(mags < 21) == pytest.approx(expected, abs=0.005)
    assert mags.min() >= 16 and mags.max() <= 25


def test_stars_follow_the_cosecant_of_latitude():
    n = stars_per_stamp(1.0, np.array([90.0, 30.0, -30.0]), COUNTS)
    assert n[0] == pytest.approx(1500.0) and n[1] == pytest.approx(3000.0) == n[2]


# ---- the host population --------------------------------------------------------------

HOSTS = HostConfig(
    0.0, {"mag_z": 0.5, "g_minus_r": 0.4, "r_minus_z": 0.7}, 6.0, 0.2, 0.5, (1.5, 6.0), (0.55, 1)
)


def test_unselected_hosts_have_the_dr10_lrg_percentiles(lenscat):
    hosts = draw_hosts(6000, lenscat["zlens"], HOSTS, np.random.default_rng(5))
    ref = lrg_photometry()
    levels = [5, 25, 50, 75, 95]
    mag_z = hosts["mag_r"] - hosts["r_minus_z"]
    np.testing.assert_allclose(np.percentile(mag_z, levels), ref.loc["mag_z"], atol=0.06)
    for colour in ("g_minus_r", "r_minus_z"):
        np.testing.assert_allclose(np.percentile(hosts[colour], levels), ref.loc[colour], atol=0.06)
    fractions = hosts["host_type"].value_counts(normalize=True)
    for kind, share in lrg_type_fractions().items():
        assert fractions.get(kind, 0.0) == pytest.approx(share, abs=0.02), kind


def test_hosts_are_at_the_candidates_redshifts_and_selection_brightens_them(lenscat):
    z_ref = lens_redshifts(lenscat["zlens"], 20000, np.random.default_rng(6))
    plain = draw_hosts(4000, lenscat["zlens"], HOSTS, np.random.default_rng(7))
    lensing = HostConfig(1.0, *list(HOSTS.__dict__.values())[1:])
    selected = draw_hosts(4000, lenscat["zlens"], lensing, np.random.default_rng(7))
    for hosts in (plain, selected):  # the selection acts at fixed redshift
        assert np.median(hosts["z_host"]) == pytest.approx(np.median(z_ref), abs=0.03)
    shift = np.median(selected["mag_r"]) - np.median(plain["mag_r"])
    assert -0.6 < shift < -0.15  # L-weighting of a ~0.6 mag wide distribution
    # further away: smaller on the sky
    far = plain["z_host"] > np.median(plain["z_host"])
    dev = plain["host_type"] == "DEV"
    assert plain["r_eff"][far & dev].median() < plain["r_eff"][~far & dev].median()


def test_lens_redshifts_parse_lenscat_strings():
    z = pd.Series(["0.42 | nan", "not measured", "-", "0.0", "0.7", "x"])
    drawn = lens_redshifts(z, 500, np.random.default_rng(0))
    assert set(np.unique(drawn)) == {0.42, 0.7}
    with pytest.raises(ValueError, match="zlens"):
        lens_redshifts(pd.Series(["not measured"]), 5, np.random.default_rng(0))


# ---- the rendered mock against the real candidates --------------------------------------


def test_mock_medians_lie_inside_the_real_dr10_ranges(lenscat, project_parameters):
    params = copy.deepcopy(project_parameters["mock_survey"])
    params.update(n_positives=80, negatives_per_positive=1.0, n_workers=1)
    cfg = MockSurveyConfig.from_params(params)
    truth = draw_population(lenscat, cfg)
    clean = truth[(truth["defect"] == "") & (truth[["nobs_g", "nobs_r", "nobs_z"]] > 0).all(axis=1)]
    reference = lens_candidate_reference()
    for kind in ("lens", "galaxy"):
        rows = clean[clean["kind"] == kind].head(70)
        stamps = np.stack([render_object(r, cfg) for r in rows.to_dict("records")])
        table = compare_with_reference(measure_stamps(stamps), reference)
        outside = table.loc[~table["median_inside"], ["quantity", "band", "mock_p50"]]
        assert outside.empty, f"{kind}: medians outside the real ranges:\n{outside}"
