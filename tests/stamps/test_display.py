"""The residual view: a round galaxy goes, an arc stays."""

import numpy as np
import pytest

from stronglens_calibration.stamps.display import azimuthal_median_residual
from stronglens_calibration.stamps.geometry import radius_map


def test_the_azimuthal_median_residual_keeps_an_arc_and_removes_a_round_galaxy():
    size = 61
    r = radius_map(size)
    c = size // 2
    yy, xx = np.indices((size, size))
    angle = np.arctan2(yy - c, xx - c)
    galaxy = np.exp(-r / 3.0)
    arc = 0.2 * np.exp(-0.5 * ((r - 10.0) / 1.0) ** 2) * (np.abs(angle) < np.pi / 5)
    stamp = np.stack([galaxy + arc] * 3).astype(np.float32)
    residual = azimuthal_median_residual(stamp)
    on_arc = arc > 0.1
    assert residual.dtype == np.float32 and residual.shape == stamp.shape
    inner = r < 6  # the round galaxy is gone, to within its change across a 1-px ring
    assert np.abs(residual[1][inner]).sum() < 0.1 * galaxy[inner].sum()
    assert residual[1][on_arc].mean() == pytest.approx(arc[on_arc].mean(), rel=0.05)
