"""Stamp statistics: exact formulas and NaN awareness."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglens_calibration.stamps.geometry import annulus_mask, core_mask
from stronglens_calibration.stamps.statistics import nanmedian_rows, stamp_statistics


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.floats(0, 0.9))
def test_nanmedian_rows_equals_numpy(seed, k, nan_frac):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(7, k)).astype(np.float32)
    x[rng.random(x.shape) < nan_frac] = np.nan
    x[0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on the all-NaN row
        expected = np.nanmedian(x.astype(np.float64), axis=1)
    np.testing.assert_allclose(nanmedian_rows(x), expected, rtol=1e-6, equal_nan=True)


def test_core_flux_of_an_image_of_ones_is_the_core_area():
    stamps = np.ones((2, 3, 21, 21), dtype=np.float32)
    stats = stamp_statistics(stamps, core_radius_px=2.5, annulus_px=(6.0, 9.0))
    area = core_mask(21, 2.5).sum()
    assert area == 21  # pixel centres within 2.5 px of the centre
    np.testing.assert_array_equal(stats["core_flux_r"], [area, area])
    np.testing.assert_array_equal(stats["annulus_median_g"], [1.0, 1.0])
    np.testing.assert_array_equal(stats["annulus_mad_z"], [0.0, 0.0])
    assert stats["constant_g"].all()


def test_nan_is_excluded_never_zeroed():
    rng = np.random.default_rng(0)
    stamps = (5.0 + rng.normal(size=(1, 3, 41, 41))).astype(np.float32)
    ring = annulus_mask(41, 10.0, 18.0)
    clean = stamp_statistics(stamps, 2.5, (10.0, 18.0))
    dirty = stamps.copy()
    # blank a third of the annulus in r: zero-filling would drag the median towards 0
    ys, xs = np.nonzero(ring)
    dirty[0, 1, ys[::3], xs[::3]] = np.nan
    stats = stamp_statistics(dirty, 2.5, (10.0, 18.0))
    assert stats["annulus_median_r"][0] == pytest.approx(clean["annulus_median_r"][0], abs=0.05)
    assert stats["nan_count_r"][0] == len(ys[::3])
    assert not stats["nan_in_core"][0]
    dirty[0, 2, 20, 20] = np.nan
    stats = stamp_statistics(dirty, 2.5, (10.0, 18.0))
    assert stats["nan_in_core"][0]
    assert np.isnan(stats["core_flux_z"][0])


def test_empty_and_constant_bands():
    stamps = np.random.default_rng(1).normal(size=(3, 3, 21, 21)).astype(np.float32)
    stamps[0, 0] = 0.0
    stamps[1, 1] = np.nan
    stamps[2, 2] = 7.0
    stats = stamp_statistics(stamps, 2.5, (6.0, 9.0))
    assert list(stats["empty_g"]) == [True, False, False]
    assert list(stats["empty_r"]) == [False, True, False]
    assert list(stats["constant_z"]) == [False, False, True]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: core_mask(21, 0.0), "core_radius_px"),
        (lambda: annulus_mask(21, 9.0, 6.0), "inner < outer"),
        (lambda: annulus_mask(21, 30.0, 40.0), "outside"),
        (lambda: stamp_statistics(np.zeros((2, 2, 5, 5), np.float32), 1.0, (1.0, 2.0)), "stamps"),
    ],
)
def test_bad_geometry_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _awkward_batch(n: int = 96) -> np.ndarray:
    """Noise stamps with every case the statistics treat apart."""
    x = np.random.default_rng(3).normal(0, 0.003, (n, 3, 41, 41)).astype(np.float32)
    x[1, 1, :6, :] = 0  # a no-coverage strip
    x[2, 0] = 0  # an empty band
    x[3, 2, 20, 20] = np.nan  # NaN in the core
    x[4] = np.nan  # nothing finite
    x[5, 1, 3, 3] = np.inf
    x[6, 2] = 1.0  # a constant band
    x[7, 0, 15:25, 15:25] = 0  # no coverage in the core
    x[8, 1, 30, :] = np.nan  # NaN in the annulus
    x[9, 0, 5, 5] = 0  # an isolated exact zero
    return x


def test_threads_do_not_change_the_statistics():
    stamps = _awkward_batch()
    one = stamp_statistics(stamps.copy(), 1.5, (12.0, 18.0), 5.0, 3)
    for threads in (2, 3, 8):
        many = stamp_statistics(stamps.copy(), 1.5, (12.0, 18.0), 5.0, 3, threads=threads)
        assert many.keys() == one.keys()
        for key in one:
            assert many[key].dtype == one[key].dtype, key
            np.testing.assert_array_equal(many[key], one[key], err_msg=key)
    assert one["zero_in_core"][7] and one["nan_in_core"][3] and one["empty_g"][2]
    assert one["zero_frac_r"][1] > 0 and one["zero_frac_g"][9] == 0


def test_statistics_leave_the_stamps_unchanged():
    stamps = _awkward_batch()
    before = stamps.copy()
    stamp_statistics(stamps, 1.5, (12.0, 18.0), 5.0, 3, threads=2)
    np.testing.assert_array_equal(stamps, before)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_positive_integer(threads):
    with pytest.raises(ValueError, match="'threads'"):
        stamp_statistics(_awkward_batch(), 1.5, (12.0, 18.0), threads=threads)


def test_known_finite_rows_give_the_same_medians():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 301)).astype(np.float32)
    x[3, 7] = np.nan
    x[9, :] = np.nan
    known = np.isfinite(x).all(axis=1)
    hinted = nanmedian_rows(x.copy(), finite_rows=known)
    np.testing.assert_array_equal(hinted, nanmedian_rows(x.copy()))
    partly = known.copy()
    partly[::2] = False  # "not known" is always safe
    np.testing.assert_array_equal(nanmedian_rows(x.copy(), finite_rows=partly), hinted)
