"""Region-disjoint splits: disjointness, determinism, fractions, overlaps, matching."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglens_calibration.pipelines.mock_survey.nodes import read_lenscat_package_catalogue
from stronglens_calibration.pipelines.split import create_pipeline
from stronglens_calibration.pipelines.split.nodes import (
    assign_split,
    match_negatives,
    plot_sky_map,
    verify_split,
)
from stronglens_calibration.sky.healpix import assign_splits, healpix_nested, parent_pixels
from stronglens_calibration.stats import cohens_d
from tests.conftest import run_slice

FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}


def _params(**changes) -> dict:
    params = {
        "nside": 128,
        "seed": 1,
        "engine": "pandas",
        "fractions": dict(FRACTIONS),
        "tolerance": 0.03,
        "min_class_size_enforced": 1000,
        "overlap": {"stamp_size": 101, "pixel_scale": 0.262, "rule": "drop_from_smaller_split"},
        "tiers": {"confident": "A", "probable": "B"},
        "region_holdout": {"nside": 8, "fraction": 0.075},
        "matching": {
            "method": "reweight",
            "variables": ["core_flux_r", "psfsize_r", "psfdepth_r"],
            "n_bins": 4,
        },
    }
    for key, value in changes.items():
        params[key] = value
    return params


def split_objects(objects: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, dict]:
    """The split pipeline up to its report, on an in-memory catalog."""
    out = run_slice(
        create_pipeline().to_nodes("build_split_report_node"),
        # no stamps are read by the split: a table without a store generation passes
        {"objects_qc": objects, "params:split": params, "stamps": {}},
        ["objects_split", "split_report"],
    )
    return out["objects_split"], out["split_report"]


def _objects(n: int, seed: int = 0, offset: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.3).astype(np.int8)
    return pd.DataFrame(
        {
            "object_id": [f"o{i}" for i in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": np.rad2deg(np.arcsin(rng.uniform(-1, 1, n))),
            "label": label,
            "tier": np.where(label == 1, rng.choice(["A", "B"], n), ""),
            "cutout_ok": True,
            "core_flux_r": rng.lognormal(0, 0.5, n) * np.where(label == 1, 1 + offset, 1.0),
            "psfsize_r": rng.normal(1.25, 0.1, n),
            "psfdepth_r": rng.lognormal(7, 0.3, n),
        }
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([1, 2, 8, 64, 128, 1024]))
def test_splits_are_disjoint_in_pixels_and_deterministic(seed, nside):
    rng = np.random.default_rng(seed)
    ra, dec = rng.uniform(0, 360, 500), rng.uniform(-90, 90, 500)
    pix = healpix_nested(ra, dec, nside)
    a = assign_splits(pix, nside, seed, FRACTIONS)
    np.testing.assert_array_equal(a, assign_splits(pix, nside, seed, FRACTIONS))
    per_pixel = pd.DataFrame({"pix": pix, "split": a}).groupby("pix")["split"].nunique()
    assert (per_pixel == 1).all()


def test_fractions_converge_to_the_targets_on_many_pixels():
    rng = np.random.default_rng(0)
    n = 200_000
    ra, dec = rng.uniform(0, 360, n), np.rad2deg(np.arcsin(rng.uniform(-1, 1, n)))
    split = assign_splits(healpix_nested(ra, dec, 1024), 1024, 7, FRACTIONS)
    counts = pd.Series(split).value_counts(normalize=True)
    for name, target in FRACTIONS.items():
        assert counts[name] == pytest.approx(target, abs=0.01)


def test_a_planted_overlap_pair_is_resolved_from_the_smaller_split():
    objects = _objects(3000)
    # the twin's split is predicted from its fine pixel alone: no region held out
    params = _params(region_holdout={"nside": 8, "fraction": 0.0})
    table, _ = assign_split(objects, params)
    # plant a twin 5 arcsec from an object, on the other side of a pixel boundary
    rng = np.random.default_rng(3)
    for _ in range(10_000):
        i = rng.integers(len(table))
        ang = rng.uniform(0, 2 * np.pi)
        ra = table.at[i, "ra"] + 5 / 3600 * np.cos(ang) / np.cos(np.deg2rad(table.at[i, "dec"]))
        dec = table.at[i, "dec"] + 5 / 3600 * np.sin(ang)
        twin_split = assign_splits(healpix_nested([ra], [dec], 128), 128, 1, FRACTIONS)[0]
        if twin_split != table.at[i, "split"]:
            break
    else:
        pytest.fail("no boundary pair found")
    twin = objects.iloc[[0]].assign(object_id="twin", ra=ra % 360, dec=dec)
    table, overlaps = assign_split(pd.concat([objects, twin], ignore_index=True), params)
    assert len(overlaps) == 1
    sizes = table["split"].value_counts()
    pair = overlaps[0]
    # the rule drops from the smaller split: before the drop it was no larger
    assert sizes.get(pair["dropped_split"], 0) + 1 <= sizes[pair["kept_split"]]
    dropped = table.loc[table["object_id"] == pair["dropped"], "split"].iloc[0]
    assert dropped == ""


@pytest.mark.parametrize("method", ["reweight", "subsample"])
def test_matching_removes_a_planted_core_flux_offset(method):
    objects = _objects(40_000, seed=2, offset=0.4)
    table, _ = assign_split(objects, _params())
    matched, report = match_negatives(
        table,
        _params(
            matching={
                "method": method,
                "variables": ["core_flux_r", "psfsize_r", "psfdepth_r"],
                "n_bins": 10,
            }
        ),
    )
    for split in ("train", "val", "test"):
        assert abs(report[split]["core_flux_r"]["before"]) > 0.3
        assert abs(report[split]["core_flux_r"]["after"]) < 0.1
    train = matched[matched["split"] == "train"]
    d = cohens_d(
        train.loc[train["label"] == 1, "core_flux_r"],
        train.loc[train["label"] == 0, "core_flux_r"],
        None,
        train.loc[train["label"] == 0, "sample_weight"],
    )
    assert abs(d) < 0.1
    assert (matched.loc[matched["label"] == 1, "sample_weight"] == 1).all()


def test_split_of_the_real_lenscat_sky_is_disjoint():
    lenscat = read_lenscat_package_catalogue()
    ra = pd.to_numeric(lenscat["RA [deg]"], errors="coerce")
    dec = pd.to_numeric(lenscat["DEC [deg]"], errors="coerce")
    ok = np.isfinite(ra) & np.isfinite(dec)
    objects = pd.DataFrame(
        {
            "object_id": [f"l{i}" for i in range(int(ok.sum()))],
            "ra": ra[ok].to_numpy(),
            "dec": dec[ok].to_numpy(),
            "label": np.int8(1),
            "tier": "A",
            "cutout_ok": True,
            "core_flux_r": 1.0,
            "psfsize_r": 1.2,
            "psfdepth_r": 1000.0,
        }
    )
    table, report = split_objects(
        objects,
        _params(
            min_class_size_enforced=10**9, matching={"method": "none", "variables": [], "n_bins": 1}
        ),
    )
    assert report["shared_pixels"] == {"train&val": 0, "train&test": 0, "val&test": 0}
    actual = report["fractions"]["all"]["actual"]
    print(f"lenscat ({len(table)} entries) split fractions: {actual}")
    for name, target in FRACTIONS.items():
        assert actual[name] == pytest.approx(target, abs=0.05)


def test_held_out_regions_are_whole_coarse_pixels_and_all_test():
    """The coarse regions hold about their target share, every object in them is test,
    no train or val object lies in one, the whole sample still meets the targets, and
    the choice ignores the labels."""
    objects = _objects(20_000, seed=4)
    table, report = split_objects(objects, _params())
    regions = report["region_holdout"]
    assert regions["shared_with_train_or_val"] == []
    assert regions["fraction"] == pytest.approx(0.075, abs=0.005)
    held = table["region_holdout"].to_numpy(bool)
    assert set(table.loc[held, "split"]) <= {"test", ""}
    coarse = healpix_nested(table["ra"], table["dec"], 8)
    assert not np.isin(coarse[~held], coarse[held]).any()
    assert sorted(np.unique(coarse[held]).tolist()) == regions["regions"]
    for name, target in FRACTIONS.items():
        assert report["fractions"]["all"]["actual"][name] == pytest.approx(target, abs=0.02)
    counts = regions["test_counts"]
    assert counts["held_out_regions"]["positives"] > 100
    assert counts["fine_pixels"]["positives"] > 100
    relabelled = objects.assign(label=np.int8(1) - objects["label"])
    again, _ = split_objects(relabelled, _params())
    np.testing.assert_array_equal(again["region_holdout"], table["region_holdout"])


def test_parent_pixels_are_the_coarse_pixels_of_the_positions():
    rng = np.random.default_rng(2)
    ra, dec = rng.uniform(0, 360, 5000), np.rad2deg(np.arcsin(rng.uniform(-1, 1, 5000)))
    for fine, coarse in ((128, 8), (64, 64), (1024, 1)):
        np.testing.assert_array_equal(
            parent_pixels(healpix_nested(ra, dec, fine), fine, coarse),
            healpix_nested(ra, dec, coarse),
        )
    with pytest.raises(ValueError, match="coarse_nside"):
        parent_pixels(np.zeros(1, np.int64), 8, 16)


def test_verification_stops_with_target_and_actual():
    objects = _objects(1500)
    objects["ra"], objects["dec"] = 10.0, 10.0 + np.arange(1500) * 1e-6  # one pixel
    _, report = split_objects(objects, _params())
    assert not report["passed"]
    with pytest.raises(ValueError, match="target .*train.*actual"):
        verify_split(report)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"fractions": {"train": 0.7, "val": 0.2, "test": 0.2}}, "split.fractions"),
        ({"fractions": {"train": 1.2, "val": -0.1, "test": -0.1}}, "split.fractions.train"),
        ({"nside": 100}, "split.nside"),
        ({"region_holdout": {"nside": 8, "fraction": 0.15}}, "split.region_holdout.fraction"),
        ({"region_holdout": {"nside": 256, "fraction": 0.05}}, "split.region_holdout.nside"),
        ({"matching": {"method": "magic", "variables": [], "n_bins": 2}}, "split.matching.method"),
    ],
)
def test_bad_parameters_name_themselves(change, match):
    with pytest.raises(ValueError, match=match):
        split_objects(_objects(50), _params(**change))


def test_bad_coordinates_are_refused_naming_the_object():
    objects = _objects(20)
    objects.loc[3, "dec"] = np.nan
    objects.loc[5, "ra"] = 400.0
    with pytest.raises(ValueError, match=r"o3.*o5"):
        split_objects(objects, _params())


def test_sky_map_draws(tmp_path):
    table, _ = assign_split(_objects(300), _params())
    fig = plot_sky_map(table, _params())
    fig.savefig(tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 10_000


@pytest.mark.slow
def test_split_pipeline_on_the_small_survey(tmp_path, small_parameters):
    from tests.conftest import run_pipelines

    params = copy.deepcopy(small_parameters)
    run_pipelines(["mock_survey", "ingest", "quality", "split"], tmp_path, params)
    table = pd.read_parquet(tmp_path / "05_model_input/objects_split.parquet")
    assert set(table["split"]) <= {"train", "val", "test", ""}
    assert table["healpix"].dtype == np.int64
    assert table["sample_weight"].dtype == np.float32
    assert (table.loc[~table["cutout_ok"], "sample_weight"] == 0).all()
    assert (tmp_path / "08_reporting/split_sky_map.png").exists()
    assert table.loc[table["region_holdout"], "split"].isin(["test", ""]).all()
