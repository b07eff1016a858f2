"""The data gates on synthetic stores with planted shortcuts, and a null data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import gaussian_filter

from stronglens_calibration.gates.data_gates import GateConfig, failure_message, run_data_gates
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.synthetic import DR10_SKY_SIGMA, synthetic_store

PARAMS = {
    "enforce": True,
    "inconclusive": "stop_if_point_fails",
    "seed": 3,
    "split": "train",
    "max_per_class": 1800,
    "core_radius_px": 1.5,
    "diagnostic_core_radius_px": 4.0,
    "diagnostic_max_per_class": 500,
    "diagnostic_logistic_C": 0.01,
    "arc_annulus_px": [1.5, 26.0],
    "noise_annulus_px": [32.0, 45.0],
    "network_clip_sigma": 20.0,
    "arc_suppression": {"detect_sigma": 3.0, "smooth_px": 2.1, "grow_px": 2.5, "iterations": 3},
    "radial": {"max_radius_px": 40.0, "bin_width_px": 2.0},
    "folds": 5,
    "n_bootstrap": 100,
    "permutation_null": {"permutations": 0, "bootstrap": 50},  # the null has tests of its own
    "logistic_C": 1.0,
    "model_gate": {"batch_size": 64, "device": "cpu"},
    "thresholds": {
        "max_abs_cohens_d": 0.1,
        "core_auc": 0.55,
        "clipped_core_auc": 0.55,
        "core_ratio": [0.95, 1.05],
        "radial_auc": 0.60,
        "photsys_fraction_difference": 0.05,
        "artefact_auc": 0.55,
        "min_effective_sample_ratio": 1.0,
        "arc_suppressed_excess_p": 0.3,
    },
}
SIZE = 91  # smaller than the survey's 101 to keep the test light; the gates only need r <= 45


def _world(tmp_path, n=3000, plant=None, seed=0):
    """A store of galaxies + sky noise; ``plant(stamps, is_positive, rng)`` edits it."""
    return synthetic_store(
        tmp_path,
        n,
        size=SIZE,
        seed=seed,
        profile="devaucouleurs",
        colour=(0.3, 1.0, 1.6),
        plant=plant,
    )


def _run(tmp_path, plant=None, **kw):
    objects, stamps = _world(tmp_path, plant=plant, **kw)
    return run_data_gates(objects, stamps, GateConfig.from_params(PARAMS))


def test_null_data_stop_nothing_and_the_core_auc_interval_covers_one_half(tmp_path):
    report = _run(tmp_path)
    assert report["blocking"] == [], failure_message(report)
    assert all(g["verdict"] != "fail" for g in report["gates"].values())
    core = report["gates"]["gate_1_6_core_only"]
    assert core["ci_low"] <= 0.5 <= core["ci_high"]
    assert report["n_positive"] == 1000
    assert report["n_negative"] == 1800  # max_per_class: a stratified draw, not the first rows


def test_bright_cores_fail_gates_1_6_and_1_8(tmp_path):
    def brighter_core(stamps, pos, rng):
        r = radius_map(SIZE)
        core = r < 3
        block = stamps[pos]
        block[:, :, core] *= 1.64
        stamps[pos] = block

    report = _run(tmp_path, brighter_core)
    assert report["gates"]["gate_1_6_core_only"]["verdict"] == "fail"
    assert report["gates"]["gate_1_8_core_brightness"]["verdict"] == "fail"
    assert {"gate_1_6_core_only", "gate_1_8_core_brightness"} <= set(report["blocking"])
    assert report["gates"]["gate_1_8_core_brightness"]["value"] > 1.3
    assert "gate_1_6_core_only" in failure_message(report)


def test_a_colour_offset_only_in_the_core_fails_gate_1_6_not_1_8(tmp_path):
    def blue_core(stamps, pos, rng):
        r = radius_map(SIZE)
        block = stamps[pos]
        core_g = block[:, 0, r < 1.5]
        block[:, 0, r < 1.5] = core_g + 0.004  # bluer core, g band only (2 sigma of sky)
        stamps[pos] = block

    report = _run(tmp_path, blue_core)
    assert report["gates"]["gate_1_6_core_only"]["verdict"] == "fail"
    assert "gate_1_8_core_brightness" not in report["blocking"]  # r band untouched


def test_a_noise_level_difference_fails_gate_1_5(tmp_path):
    def noisier(stamps, pos, rng):
        extra = rng.normal(0, 1, stamps[pos].shape).astype(np.float32)
        stamps[pos] += extra * np.array([0.0018, 0.0026, 0.0083], dtype=np.float32)[:, None, None]

    report = _run(tmp_path, noisier)
    gate = report["gates"]["gate_1_5_normalisation"]
    assert gate["verdict"] == "fail" and "gate_1_5_normalisation" in report["blocking"]
    assert abs(gate["cohens_d"]["annulus_mad_r"]) > 1.0


def test_too_few_objects_is_a_clear_error(tmp_path):
    objects, stamps = _world(tmp_path, n=12)
    with pytest.raises(ValueError, match="folds"):
        run_data_gates(objects, stamps, GateConfig.from_params(PARAMS))


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("folds",), 1, "shortcut_gates.folds"),
        (("thresholds", "core_auc"), 0.3, "shortcut_gates.thresholds.core_auc"),
        (("split",), "holdout", "shortcut_gates.split"),
        (("radial", "max_radius_px"), 20.0, "max_radius_px"),
    ],
)
def test_bad_parameters_name_themselves(path, value, match):
    import copy

    params = copy.deepcopy(PARAMS)
    target = params
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError, match=match):
        GateConfig.from_params(params)


def test_fast_bootstrap_auc_equals_sklearn():
    from sklearn.metrics import roc_auc_score

    from stronglens_calibration.stats import BootstrapAUC

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(size=500) + 0.5 * y, 1)  # ties included
    w = rng.uniform(0.5, 2, 500)
    m = rng.integers(0, 3, 500).astype(float)
    auc = BootstrapAUC(y, s, w)
    assert auc() == pytest.approx(roc_auc_score(y, s, sample_weight=w))
    assert auc(m) == pytest.approx(roc_auc_score(y, s, sample_weight=w * m))


def test_gaussian_rank_scaler_matches_sklearn_quantile_transformer():
    from sklearn.preprocessing import QuantileTransformer

    from stronglens_calibration.gates.statistics import GaussianRankScaler

    rng = np.random.default_rng(1)
    x = np.column_stack([rng.lognormal(size=400), np.round(rng.normal(size=400), 1)])
    test = np.column_stack([rng.lognormal(size=50), rng.normal(size=50)])
    ours = GaussianRankScaler(100).fit(x).transform(test)
    theirs = (
        QuantileTransformer(n_quantiles=100, output_distribution="normal").fit(x).transform(test)
    )
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_a_photometric_system_imbalance_fails_its_gate(tmp_path):
    """North-imaging lenses among DECam non-lenses: a camera shortcut the pixel gates
    need not see."""
    objects, stamps = _world(tmp_path, n=900)
    lens = objects["label"] == 1
    north = lens & (np.arange(len(objects)) % 2 == 0)
    report = run_data_gates(
        objects.assign(photsys=np.where(north, "N", "S")), stamps, GateConfig.from_params(PARAMS)
    )
    gate = report["gates"]["gate_photometric_system"]
    assert gate["value"] == pytest.approx(0.5, abs=0.02)
    assert gate["verdict"] == "fail" and "gate_photometric_system" in report["blocking"]
    balanced = run_data_gates(objects.assign(photsys="S"), stamps, GateConfig.from_params(PARAMS))
    assert balanced["gates"]["gate_photometric_system"]["verdict"] == "pass"


def test_the_gate_figure_draws_an_interval_that_misses_its_value():
    """The bootstrap interval of a maximum (gate 1.5) can lie above the point estimate;
    the figure must draw it as it is rather than fail on negative error bars."""
    import matplotlib.figure

    from stronglens_calibration.gates.plots import gate_diagnostics_figure

    rng = np.random.default_rng(0)
    sample = pd.DataFrame(
        {
            "label": np.repeat([0, 1], 50),
            "sample_weight": 1.0,
            "core_flux_r": rng.lognormal(-0.5, 0.8, 100),
        }
    )
    gate = {"value": 0.02, "ci_low": 0.03, "ci_high": 0.2, "threshold": 0.1, "passed": True}
    diag = {"value": 0.8, "ci_low": 0.75, "ci_high": 0.85, "core_radius_px": 10.0}
    report = {
        "gates": {"gate_1_5_normalisation": gate},
        "diagnostics": {"core_auc_at_diagnostic_radius": diag},
        "passed": True,
    }
    fig = gate_diagnostics_figure(sample, report, 1.5, "train")
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[1]
    xs = np.concatenate([line.get_xdata() for line in ax.lines])
    assert np.isclose(xs, 0.03).any() and np.isclose(xs, 0.2).any()  # the interval's ends


def test_auc_gates_are_two_sided():
    """A held-out AUC of 0.37 separates the classes as well as one of 0.63 does."""
    from stronglens_calibration.gates.registry import GATES

    for name in ("gate_1_6_core_only", "gate_radial_profile"):
        gate = GATES[name]
        assert gate.rule == "auc"
        assert gate.passes(0.52, 0.55) and gate.passes(0.48, 0.55)
        assert not gate.passes(0.60, 0.55) and not gate.passes(0.40, 0.55)
        assert not gate.passes(0.373, 0.6)  # an inverted radial AUC no longer passes


def test_reweighting_onto_a_few_non_lenses_fails_the_effective_sample_gate(tmp_path):
    """When a matching hands the weight to a handful of non-lenses, the gates compare the
    lenses with those few: the effective-sample gate stops the run and names them."""
    objects, stamps = _world(tmp_path, n=900)
    neg = np.flatnonzero(objects["label"].to_numpy() == 0)
    weights = objects["sample_weight"].to_numpy(float).copy()
    weights[neg] = 0.01
    heavy = neg[:12]
    weights[heavy] = 40.0
    report = run_data_gates(
        objects.assign(sample_weight=weights), stamps, GateConfig.from_params(PARAMS)
    )
    gate = report["gates"]["gate_effective_sample"]
    assert gate["effective_n_non_lenses"] < 20 < gate["n_non_lenses"]
    assert gate["verdict"] == "fail" and "gate_effective_sample" in report["blocking"]
    named = {w["object_id"] for w in gate["largest_weights"]}
    assert named <= set(objects["object_id"].iloc[heavy])
    assert gate["largest_weights"][0]["share_of_non_lens_weight"] > 0.05
    plain = run_data_gates(objects, stamps, GateConfig.from_params(PARAMS))
    assert plain["gates"]["gate_effective_sample"]["verdict"] == "pass"


def test_a_zeroed_patch_in_every_lens_stamp_fails_the_artefact_gate(tmp_path):
    """A 6 x 6 pixel patch of exact zeros at 10-20 px in every lens stamp (a mask
    artefact) leaves the flux gates where they were; the artefact gate stops the run."""
    c = SIZE // 2

    def zero_patch(stamps, pos, rng):
        block = stamps[pos]
        block[:, :, c + 10 : c + 16, c + 12 : c + 18] = 0.0
        stamps[pos] = block

    report = _run(tmp_path, zero_patch)
    gate = report["gates"]["gate_artefacts"]
    assert gate["verdict"] == "fail" and "gate_artefacts" in report["blocking"]
    assert gate["value"] > 0.95
    assert gate["objects_with_artefacts"] == {"lenses": 1.0, "non_lenses": 0.0}
    assert gate["rates"]["zero_annulus_r"] == {"lenses": 1.0, "non_lenses": 0.0}
    assert "gate_1_8_core_brightness" not in report["blocking"]


def test_artefact_indicators_count_zeros_nans_and_flat_patches():
    from stronglens_calibration.gates.artefacts import artefact_indicators

    rng = np.random.default_rng(0)
    crops = rng.normal(0, 1, (3, 3, 41, 41)).astype(np.float32)
    crops[1, 0, 20, 30:34] = 0.0  # 4 zeros in the g annulus, one pixel wide: not flat
    crops[2, 2, 5:10, 5:10] = 7.0  # a flat 5 x 5 patch in z (3 x 3 windows: 9 centres)
    crops[2, 1, 20, 20] = np.nan  # a NaN in the r core
    features, names = artefact_indicators(crops, 1.5, (1.5, 20.0))
    col = {n: features[:, j] for j, n in enumerate(names)}
    annulus_area = np.count_nonzero((radius_map(41) >= 1.5) & (radius_map(41) < 20.0))
    assert col["zero_annulus_g"][1] == pytest.approx(4 / annulus_area)
    assert col["constant_annulus_g"][1] == 0.0
    assert col["constant_annulus_z"][2] == pytest.approx(9 / annulus_area)
    assert col["nan_core_r"][2] == pytest.approx(1 / 9)
    assert features[0].sum() == 0.0  # clean noise has none of them


def _seen_through_a_psf(tmp_path, plant):
    """A store of de Vaucouleurs galaxies seen through a Gaussian PSF of 2.1 px sigma
    (1.3" FWHM), whose r-band centres reach the network's 20-sigma clip."""
    objects, stamps = synthetic_store(
        tmp_path,
        3000,
        size=SIZE,
        seed=0,
        profile="devaucouleurs",
        colour=(0.3, 1.0, 1.6),
        psf_sigma_px=2.1,
        plant=plant,
    )
    return run_data_gates(objects, stamps, GateConfig.from_params(PARAMS))


def test_light_just_outside_the_core_reaches_the_network_as_a_plateau(tmp_path):
    """Lens hosts twice as bright at 1.5-3 px leave the 3 x 3 core, the core flux and the
    profile outside the arc annulus as they were: every raw-pixel gate passes or stays
    where it was. Clipped at 20 sigma, the extra light widens the plateau the network
    sees, and the clipped-core gate stops the run, alone."""
    ring = (radius_map(SIZE) >= 1.5) & (radius_map(SIZE) < 3.0)

    def brighter_shoulder(stamps, pos, rng):
        block = stamps[pos]
        block[:, :, ring] *= 2.0
        stamps[pos] = block

    honest = _seen_through_a_psf(tmp_path / "honest", None)
    planted = _seen_through_a_psf(tmp_path / "planted", brighter_shoulder)
    assert honest["blocking"] == [], failure_message(honest)
    assert planted["blocking"] == ["gate_clipped_core"], failure_message(planted)
    gate = planted["gates"]["gate_clipped_core"]
    assert gate["verdict"] == "fail" and gate["clip_sigma"] == 20.0
    for name in ("gate_1_6_core_only", "gate_1_8_core_brightness", "gate_radial_profile"):
        assert planted["gates"][name]["value"] == honest["gates"][name]["value"], name


def test_a_broader_psf_for_the_lenses_fails_the_core_gates(tmp_path):
    """Lens stamps seen through a broader PSF (a further 1 px Gaussian, the sky noise
    topped up to its level so the normalisation statistics stay matched) spread the core
    light: gate 1.6 and the clipped-core gate stop the run; gate 1.5 does not."""
    sigma = np.asarray(DR10_SKY_SIGMA, dtype=np.float32)[:, None, None]
    kept = np.float32(np.sqrt(1.0 - 1.0 / (4.0 * np.pi)))  # white noise smoothed by 1 px

    def broader_psf(stamps, pos, rng):
        block = gaussian_filter(stamps[pos], sigma=(0, 0, 1.0, 1.0))
        block += rng.normal(0, 1, block.shape).astype(np.float32) * sigma * kept
        stamps[pos] = block

    report = _seen_through_a_psf(tmp_path, broader_psf)
    assert {"gate_1_6_core_only", "gate_clipped_core"} <= set(report["blocking"])
    assert report["gates"]["gate_1_5_normalisation"]["verdict"] != "fail"


def test_the_plateau_is_the_clipped_region_that_holds_the_centre():
    from stronglens_calibration.gates.network_input import (
        central_plateau_size,
        clipped_core_features,
    )

    images = np.zeros((3, 9, 9), dtype=np.float32)
    images[0, 3:6, 3:6] = 20.0  # a 3 x 3 plateau on the centre
    images[0, 0, 0] = 20.0  # clipped, but not connected to it
    images[1, 4, 4] = 19.9  # the centre below the clip: no plateau
    images[1, 4, 5:] = 20.0
    images[2, 4, 2:7] = 20.0  # a line through the centre, 5 px
    images[2, 3, 1] = 20.0  # a diagonal neighbour does not join a four-connected region
    assert central_plateau_size(images, 20.0).tolist() == [9, 0, 5]

    crops = np.zeros((1, 3, 9, 9), dtype=np.float32)
    crops[0, 1, 3:6, 3:6] = 1.0  # r band: 1 nanomaggy over 3 x 3 pixels
    median = np.zeros((1, 3), dtype=np.float32)
    mad = np.full((1, 3), 0.01 / 1.4826, dtype=np.float32)  # a sky sigma of 0.01
    features, names = clipped_core_features(crops, median, mad, 20.0, 1.5)
    values = dict(zip(names, features[0], strict=True))
    assert values["plateau_px_r"] == 9 and values["plateau_px_g"] == 0
    assert values["core_level_r"] == pytest.approx(20.0) and values["core_level_z"] == 0.0
