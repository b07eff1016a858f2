"""Light profiles sampled on pixel grids: cusps and narrow Gaussians keep their flux."""

import pytest

from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.profiles import Gaussian, Sersic


@pytest.mark.parametrize(("n", "r_eff"), [(4.0, 0.5), (6.0, 0.5), (4.0, 1.5), (1.0, 0.5)])
def test_a_sampled_sersic_cusp_gets_its_pixel_share_of_the_light(n, r_eff):
    profile = Sersic(1.0, r_eff, n)
    coarse = PixelGrid(11, 0.262, 3)
    x, y = coarse.coordinates()
    sampled = coarse.bin(profile.sampled_surface_brightness(x, y, (0.262 / 3) ** 2))
    fine = PixelGrid(11, 0.262, 301)
    xf, yf = fine.coordinates()
    exact = fine.bin(profile.surface_brightness(xf, yf)) * fine.pixel_area
    centre = sampled[5, 5] * coarse.pixel_area
    assert centre == pytest.approx(exact[5, 5], rel=0.1)
    # plain point sampling puts more than the whole galaxy into the centre pixel at n = 6
    plain = coarse.bin(profile.surface_brightness(x, y))[5, 5] * coarse.pixel_area
    if n >= 6:
        assert plain > 1.0
    total = sampled.sum() * coarse.pixel_area
    assert total == pytest.approx(exact.sum(), rel=0.05)


@pytest.mark.parametrize("x0", [0.0, 0.03, 0.07, 0.12])
def test_a_star_narrower_than_a_sample_keeps_its_flux(x0):
    grid = PixelGrid(11, 0.262, 3)
    x, y = grid.coordinates()
    star = Gaussian(1.0, 0.03, x0=x0, y0=0.02)
    flux = grid.bin(star.sampled_surface_brightness(x, y, (0.262 / 3) ** 2)).sum() * grid.pixel_area
    assert flux == pytest.approx(1.0, abs=0.06)
