"""Catalogue logic: lenscat positives, sweep cuts and boxes, keyed sampling."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglens_calibration.catalogues.lenscat import build_positives, primary_alias
from stronglens_calibration.catalogues.sampling import SmallestKeys, keyed_uniform
from stronglens_calibration.catalogues.sweeps import Cuts, HardConfuserRules, strata, sweep_box

TIERS = {"confident": "A", "probable": "B"}


def _lenscat(rows):
    return pd.DataFrame(
        rows, columns=["name", "RA [deg]", "DEC [deg]", "zlens", "type", "grading", "ref"]
    )


def test_positives_merge_duplicates_keep_best_tier_and_quarantine_bad_coordinates():
    cands = _lenscat(
        [
            ["A1 | alias", 10.0, 5.0, "-", "galaxy", "probable", "r1"],
            ["A2", 10.0 + 0.5 / 3600, 5.0, "-", "galaxy", "confident", "r2"],
            ["B", 20.0, -5.0, "-", "galaxy", "probable", "r3"],
            ["C", np.nan, 1.0, "-", "galaxy", "probable", "r4"],
            ["D", 400.0, 1.0, "-", "galaxy", "probable", "r5"],
        ]
    )
    pos, quar = build_positives(cands, TIERS, merge_radius_arcsec=1.0)
    assert list(pos["object_id"]) == ["lenscat:A2", "lenscat:B"]
    assert list(pos["tier"]) == ["A", "B"]
    reasons = dict(zip(quar["object_id"], quar["reason"], strict=True))
    assert reasons["lenscat:A1"] == "duplicate position, merged into lenscat:A2"
    assert reasons["lenscat:C"] == "non-finite coordinates"
    assert reasons["lenscat:D"] == "coordinates out of range"
    assert len(pos) + len(quar) == len(cands)
    assert primary_alias("DESI-1 | J0101") == "DESI-1"


def test_keyed_uniform_is_stable_and_seeded():
    a = keyed_uniform(["x", "y"], 1)
    np.testing.assert_array_equal(a, keyed_uniform(["x", "y"], 1))
    assert not np.array_equal(a, keyed_uniform(["x", "y"], 2))
    # a known value: changes here would change every sample the project has drawn
    assert keyed_uniform(["dr10:10000_1_2"], 0)[0] == pytest.approx(
        int.from_bytes(__import__("hashlib").sha256(b"0:dr10:10000_1_2").digest()[:8], "big")
        / 2**64
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 8))
def test_smallest_keys_is_independent_of_stream_order_and_chunking(seed, n_chunks):
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame({"object_id": [f"o{i}" for i in range(60)]})
    rows["key"] = keyed_uniform(rows["object_id"], seed)
    group = rng.choice(["a", "b", "c"], 60)
    expected = {g: set(rows[group == g].nsmallest(5, "key")["object_id"]) for g in "abc"}
    perm = rng.permutation(60)
    keeper = SmallestKeys(dict.fromkeys("abc", 5))
    for part in np.array_split(perm, n_chunks):
        keeper.offer(rows.iloc[part], group[part])
    for g in "abc":
        assert set(keeper.take(g, 5)["object_id"]) == expected[g]


def test_cuts_report_every_failure():
    cuts = Cuts(
        types=("DEV", "SER"),
        reject_maskbits=(1,),
        min_nobs={"g": 1, "r": 1, "z": 2},
        mag_z=(16.0, 20.0),
        dec_deg=(-60.0, 60.0),
    )
    phot = pd.DataFrame(
        {
            "type": ["DEV", "PSF", "SER", "DEV"],
            "maskbits": [0, 0, 2, 0],
            "nobs_g": [1, 1, 1, 0],
            "nobs_r": [1, 1, 1, 1],
            "nobs_z": [2, 2, 1, 2],
            "mag_z": [18.0, 18.0, 18.0, np.nan],
        }
    )
    fails = cuts.failures(phot, np.array([0.0, 0.0, 0.0, 70.0]))
    assert list(fails["type"]) == [False, True, False, False]
    assert list(fails["maskbits"]) == [False, False, True, False]
    assert list(fails["nobs_z"]) == [False, False, True, False]
    assert list(fails["nobs_g"]) == [False, False, False, True]
    assert list(fails["mag_z"]) == [False, False, False, True]
    assert list(fails["dec"]) == [False, False, False, True]


def test_hard_confuser_categories_and_strata():
    rules = HardConfuserRules(
        ring_max_sersic=1.0,
        edge_on_max_axis_ratio=0.3,
        blue_max_g_minus_r=0.9,
        large_min_shape_r=2.0,
    )
    phot = pd.DataFrame(
        {
            "type": ["SER", "EXP", "DEV", "DEV", "PSF"],
            "sersic": [0.7, 1.0, 4.0, 4.0, 0.0],
            "axis_ratio": [0.9, 0.15, 0.9, 0.9, 1.0],
            "mag_g": [20.0, 20.0, 19.5, 21.0, 18.0],
            "mag_r": [19.0, 19.0, 19.0, 19.0, 18.0],
            "shape_r": [1.0, 1.0, 1.0, 3.0, 0.0],
            "nobs_z": [1, 2, 3, 5, 9],
        }
    )
    assert list(rules.categorise(phot)) == ["ring_like", "edge_on", "blue_clumpy", "large", ""]
    assert list(strata(phot, [1, 2, 3, 4, 6, 1000])) == [
        "1-2|SER",
        "2-3|EXP",
        "3-4|DEV",
        "4-6|DEV",
        "6-1000|PSF",
    ]


@pytest.mark.parametrize(
    ("name", "box"),
    [
        ("sweep-000m005-010p000.fits", (0.0, 10.0, -5.0, 0.0)),
        ("s3://b/dr10/sweep-350p030-360p035", (350.0, 360.0, 30.0, 35.0)),
        ("my_catalogue.fits", None),
    ],
)
def test_sweep_boxes_from_names(name, box):
    assert sweep_box(name) == box


def test_a_grading_with_stray_spaces_or_capitals_is_kept_and_others_are_counted():
    """lenscat rows typed "confident " or "Probable" are the gradings they spell; rows of
    the wanted references with another grading are counted in the report, not lost."""
    import pandas as pd

    from stronglens_calibration.catalogues.lenscat import (
        build_positives,
        select_candidates,
        unselected_by_label,
    )

    lenscat = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d"],
            "RA [deg]": [10.0, 20.0, 30.0, 40.0],
            "DEC [deg]": [1.0, 2.0, 3.0, 4.0],
            "zlens": ["0.5", "-", "0.4", "0.3"],
            "type": ["galaxy", "Galaxy ", "galaxy", "galaxy"],
            "grading": ["confident ", "Probable", "maybe", "confident"],
            "ref": ["DESI"] * 4,
        }
    )
    rows = select_candidates(lenscat, ["DESI"], [])
    assert list(rows["name"]) == ["a", "b", "d"]
    positives, _ = build_positives(rows, {"confident": "A", "probable": "B"}, 1.0)
    assert sorted(positives["tier"]) == ["A", "A", "B"]
    left = unselected_by_label(lenscat, ["DESI"], [], ["confident", "probable"], ["galaxy"])
    assert left == {"grading": {"maybe": 1}, "type": {}}
