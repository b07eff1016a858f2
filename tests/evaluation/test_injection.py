"""Injection-recovery and realism: arcs land where and as bright as asked; the realism
checks see injections that are too bright or unlike real lenses."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.evaluation.injection import (
    InjectionConfig,
    plan_injections,
    render_injection,
)
from stronglens_calibration.evaluation.realism import aperture_flux, linear_probe, median_ratio
from stronglens_calibration.photometry import mag_to_nanomaggies


@pytest.fixture
def injection_params(project_parameters):
    params = copy.deepcopy(project_parameters["evaluate"]["injection"])
    params.update(
        per_cell=3, theta_e_bins_arcsec=[1.0, 1.5, 2.5], lensed_mag_r_bins=[20.0, 21.0, 22.0]
    )
    return params


def _hosts(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "object_id": [f"h{i}" for i in range(n)],
            "shard": 0,
            "offset": np.arange(n),
            "psfsize_r": np.where(np.arange(n) == 3, np.nan, rng.uniform(1.0, 1.6, n)),
        }
    )


def test_the_plan_fills_every_cell_reproducibly(injection_params):
    cfg = InjectionConfig.from_params(injection_params)
    plan = plan_injections(_hosts(), cfg, seed=4)
    assert len(plan) == 2 * 2 * 2 * 3  # theta_E x magnitude x PSF bins x per cell
    counts = plan.groupby(["psf_bin", "theta_e_bin", "mag_bin"]).size()
    assert (counts == 3).all()
    for i, (lo, hi) in enumerate([(1.0, 1.5), (1.5, 2.5)]):
        te = plan.loc[plan["theta_e_bin"] == i, "theta_e"]
        assert te.between(lo, hi).all()
    assert plan["host_id"].isin(_hosts()["object_id"]).all()
    assert np.isfinite(plan["fwhm_r"]).all()  # a host without psfsize_r gets the median
    # the PSF bins split the hosts by seeing
    assert (
        plan.loc[plan["psf_bin"] == 0, "fwhm_r"].max()
        <= plan.loc[plan["psf_bin"] == 1, "fwhm_r"].min()
    )
    pd.testing.assert_frame_equal(plan, plan_injections(_hosts(), cfg, seed=4))
    assert not plan.equals(plan_injections(_hosts(), cfg, seed=5))


def test_an_injection_adds_the_requested_flux_around_the_centre(injection_params):
    cfg = InjectionConfig.from_params(injection_params)
    plan = plan_injections(_hosts(), cfg, seed=1)
    row = plan.iloc[0].to_dict()
    row.update(lensed_mag_r=19.0, theta_e=1.8, src_x=0.05, src_y=0.0)
    host = np.zeros((3, 101, 101), dtype=np.float32)
    out = render_injection(row, host, cfg, seed=1)
    added = out - host
    expected_r = mag_to_nanomaggies(19.0)
    assert added[1].sum() == pytest.approx(expected_r, rel=0.03)
    # blue source: g fainter than r by g-r, z by r-z
    assert added[0].sum() == pytest.approx(
        expected_r * 10 ** (-0.4 * row["src_g_minus_r"]), rel=0.05
    )
    yy, xx = np.indices(added[1].shape) - 50
    r = np.hypot(yy, xx)
    w = np.clip(added[1], 0, None)
    mean_radius_arcsec = (w * r).sum() / w.sum() * 0.262
    assert mean_radius_arcsec == pytest.approx(1.8, rel=0.25)  # light on the Einstein ring
    assert abs((w * xx).sum() / w.sum()) < 1.0 and abs((w * yy).sum() / w.sum()) < 1.0
    assert np.all(added[:, r > 45] == 0)  # nothing outside the rendered region


def test_injection_parameters_are_validated_by_name(injection_params):
    bad = dict(injection_params, theta_e_bins_arcsec=[2.0, 1.0])
    with pytest.raises(ValueError, match="evaluate.injection.theta_e_bins_arcsec"):
        InjectionConfig.from_params(bad)
    bad = dict(injection_params, render_size_px=60)
    with pytest.raises(ValueError, match="render_size_px"):
        InjectionConfig.from_params(bad)
    with pytest.raises(ValueError, match="no host"):
        plan_injections(_hosts().iloc[:0], InjectionConfig.from_params(injection_params), 0)


def test_the_brightness_ratio_catches_injections_nine_times_too_bright(injection_params):
    cfg = InjectionConfig.from_params(injection_params)
    plan = plan_injections(_hosts(), cfg, seed=2)
    rng = np.random.default_rng(0)
    hosts = rng.normal(0, 0.003, (len(plan), 3, 101, 101)).astype(np.float32)

    def stamps(mag_offset):
        rows = plan.assign(lensed_mag_r=plan["lensed_mag_r"] + mag_offset).to_dict("records")
        return np.stack([render_injection(r, h, cfg, 2) for r, h in zip(rows, hosts, strict=True)])

    real = aperture_flux(stamps(0.0), 12.0, (32.0, 45.0))
    fair = median_ratio(aperture_flux(stamps(0.0), 12.0, (32.0, 45.0)), real, 200, 0)
    bright = median_ratio(
        aperture_flux(stamps(-2.5 * np.log10(9)), 12.0, (32.0, 45.0)), real, 200, 0
    )
    assert fair["value"] == pytest.approx(1.0, abs=0.05)
    assert bright["value"] == pytest.approx(9.0, rel=0.1)
    assert bright["ci_low"] > 5


def test_the_linear_probe_separates_different_populations_only():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(120, 16))
    same = linear_probe(real, rng.normal(size=(300, 16)), 5, 0, 200)
    shifted = linear_probe(real, rng.normal(size=(300, 16)) + 1.0, 5, 0, 200)
    assert same["auc"] < 0.65
    assert shifted["auc"] > 0.95
    assert shifted["n_real"] == 120 and shifted["n_injected"] == 300


def test_the_probe_chooses_its_regularisation_without_its_test_folds():
    """Many correlated features (as a network's penultimate layer gives) on a demo-sized
    sample: a fixed weak regularisation fits noise and understates a real difference;
    the strength chosen inside each training part finds more of it, and still finds
    nothing where there is nothing."""
    from sklearn.metrics import roc_auc_score

    from stronglens_calibration.evaluation.realism import PROBE_STRENGTHS
    from stronglens_calibration.gates.statistics import out_of_fold_scores

    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(8, 128))

    def features(n: int, shift: float) -> np.ndarray:
        latent = rng.normal(size=(n, 8))
        latent[:, 0] += shift
        return latent @ mixing + 0.5 * rng.normal(size=(n, 128))

    null = linear_probe(features(83, 0.0), features(240, 0.0), 5, 0, 200)
    assert null["ci_low"] < 0.5 < null["ci_high"]
    real, injected = features(83, 0.0), features(240, 0.8)
    nested = linear_probe(real, injected, 5, 0, 200)
    x = np.concatenate([real, injected])
    y = np.r_[np.zeros(83, int), np.ones(240, int)]
    fixed = roc_auc_score(y, out_of_fold_scores(x, y, np.where(y == 1, 83 / 240, 1.0), 5, 0))
    assert nested["auc"] > fixed + 0.015
    assert nested["ci_low"] > 0.6
    assert len(nested["strengths"]) == 5
    assert set(nested["strengths"]) <= set(PROBE_STRENGTHS)


def test_the_realism_verdict_has_three_answers():
    from stronglens_calibration.evaluation.selection import RealismConfig, realism_verdict

    cfg = RealismConfig((19.5, 22.5), 12.0, (32.0, 45.0), 1.5, 5, (0.67, 1.5), 0.75, 200, 0)
    assert realism_verdict(1.0, 0.55, cfg, (0.45, 0.65)).startswith("Injections resemble")
    close = realism_verdict(1.0, 0.68, cfg, (0.62, 0.74))
    assert close.startswith("Injections are close to real lenses but distinguishable")
    assert "0.620-0.740" in close
    assert realism_verdict(1.0, 0.9, cfg, (0.85, 0.95)).startswith(
        "The selection function does NOT"
    )
    assert realism_verdict(3.0, 0.55, cfg, (0.45, 0.65)).startswith(
        "The selection function does NOT"
    )
    arcs_too_bright = realism_verdict(1.0, 0.55, cfg, (0.45, 0.65), arc_ratio=3.0)
    assert arcs_too_bright.startswith("The selection function does NOT")
    assert "host light subtracted, are 3.00x" in arcs_too_bright


def test_the_arc_brightness_measures_arcs_not_hosts(injection_params):
    """The same arcs injected into faint and into bright hosts: the central-aperture flux
    follows the hosts (their ratio is far from 1), the host-subtracted arc flux follows
    the arcs (ratio near 1), and an arc-free host has next to none."""
    from scipy.ndimage import gaussian_filter

    from stronglens_calibration.evaluation.realism import arc_flux
    from stronglens_calibration.gates.arc_suppression import ExcessLight
    from stronglens_calibration.synthetic import DR10_SKY_SIGMA, galaxy_profile, sky_noise

    cfg = InjectionConfig.from_params(injection_params)
    plan = plan_injections(_hosts(), cfg, seed=2)
    plan = plan.assign(theta_e=np.clip(plan["theta_e"], 1.2, None), lensed_mag_r=20.0)
    galaxy = gaussian_filter(galaxy_profile(101, "devaucouleurs", 5.0), 2.1)
    colour = np.array([0.4, 1.0, 1.7], dtype=np.float32)[:, None, None]
    noise = sky_noise(np.random.default_rng(0), (len(plan), 3, 101, 101), DR10_SKY_SIGMA)

    def injected(host_flux):
        hosts = noise + host_flux * colour * galaxy
        rows = plan.to_dict("records")
        return hosts, np.stack(
            [render_injection(r, h, cfg, 2) for r, h in zip(rows, hosts, strict=True)]
        )

    faint_hosts, faint = injected(2.0)
    _, bright = injected(20.0)
    aperture = median_ratio(
        aperture_flux(bright, 12.0, (32.0, 45.0)), aperture_flux(faint, 12.0, (32.0, 45.0)), 200, 0
    )
    excess = ExcessLight()
    arcs = median_ratio(
        arc_flux(bright, 1.5, 12.0, (32.0, 45.0), excess),
        arc_flux(faint, 1.5, 12.0, (32.0, 45.0), excess),
        200,
        0,
    )
    assert aperture["value"] > 2.0
    assert arcs["value"] == pytest.approx(1.0, abs=0.2)
    none = arc_flux(faint_hosts, 1.5, 12.0, (32.0, 45.0), excess)
    assert np.median(np.abs(none)) < 0.1 * arcs["median_denominator"]
