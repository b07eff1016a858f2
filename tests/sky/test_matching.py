"""Cross-matching on the sphere."""

import numpy as np
import pytest

from stronglens_calibration.sky.matching import nearest_neighbour, pairs_within, within_radius


def test_separations_are_exact_across_ra_wrap_and_near_poles():
    idx, sep = nearest_neighbour(
        np.array([359.9999, 10.0]),
        np.array([0.0, 89.9]),
        np.array([0.0001, 190.0]),
        np.array([0.0, 89.9]),
    )
    assert list(idx) == [0, 1]
    assert sep[0] == pytest.approx(0.72, abs=1e-3)  # 0.0002 deg
    assert sep[1] == pytest.approx(720.0, rel=1e-3)  # 0.2 deg through the pole


def test_within_radius_and_pairs():
    ra = np.array([10.0, 10.0 + 5 / 3600, 20.0])
    dec = np.zeros(3)
    assert list(within_radius(ra, dec, ra[[2]], dec[[2]], 1.0)) == [False, False, True]
    np.testing.assert_array_equal(pairs_within(ra, dec, 6.0), [[0, 1]])
    assert pairs_within(ra, dec, 4.0).shape == (0, 2)


def test_non_finite_coordinates_are_refused():
    with pytest.raises(ValueError, match="finite"):
        nearest_neighbour(np.array([np.nan]), np.array([0.0]), np.array([0.0]), np.array([0.0]))
