"""Exact-formula tests of the lensing library."""

import numpy as np
import pytest

from stronglens_calibration.lensing.arcs import lensed_image, render_arcs
from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.mass import SIE, ExternalShear, ray_trace
from stronglens_calibration.lensing.profiles import Sersic, sersic_b
from stronglens_calibration.lensing.psf import moffat_kernel

SCALE = 0.262


def _azimuthal_profile(image: np.ndarray, pixel_scale: float) -> tuple[np.ndarray, np.ndarray]:
    c = image.shape[0] // 2
    yy, xx = np.indices(image.shape)
    r = np.hypot(xx - c, yy - c)
    rbin = np.round(r).astype(int)
    prof = np.bincount(rbin.ravel(), image.ravel()) / np.bincount(rbin.ravel())
    return np.arange(prof.size) * pixel_scale, prof


@pytest.mark.parametrize("theta_e", [0.8, 1.5, 3.0])
def test_sis_makes_an_einstein_ring_of_radius_theta_e(theta_e):
    grid = PixelGrid(101, SCALE, oversample=5)
    source = Sersic(flux=1.0, r_eff=0.05, n=1.0)
    image = lensed_image(grid, [SIE(theta_e)], source)
    radius, prof = _azimuthal_profile(image, SCALE)
    assert abs(radius[np.argmax(prof)] - theta_e) <= SCALE
    # a ring: every azimuth at the ring radius is bright
    c = 50
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = image[
        np.round(c + theta_e / SCALE * np.sin(angles)).astype(int),
        np.round(c + theta_e / SCALE * np.cos(angles)).astype(int),
    ]
    assert ring.min() > 0.2 * ring.max()


def test_lensing_conserves_surface_brightness():
    # Each ray-traced sample takes the source's surface brightness at its source-plane
    # position, so the brightest image pixel cannot exceed the source's peak, and with
    # fine sampling it reaches it (a source inside the caustic is imaged without loss).
    lens = [SIE(1.2, q=0.7, phi=0.4), ExternalShear(0.03, -0.02)]
    source = Sersic(flux=1.0, r_eff=0.3, n=1.0, x0=0.1, y0=0.05)
    x = np.linspace(-3, 3, 1201)
    xx, yy = np.meshgrid(x, x)
    bx, by = ray_trace(xx, yy, lens)
    image_sb = source.surface_brightness(bx, by)
    peak_source = source.surface_brightness(np.array(0.1), np.array(0.05))
    assert image_sb.max() <= peak_source * (1 + 1e-12)
    assert image_sb.max() == pytest.approx(float(peak_source), rel=0.02)


@pytest.mark.parametrize("beta_frac", [0.3, 0.5, 2.0])
def test_total_lensed_flux_is_source_flux_times_point_magnification(beta_frac):
    theta_e = 1.5
    beta = beta_frac * theta_e
    # SIS point-source magnification: 2 theta_E / beta inside the caustic, 1 + theta_E / beta
    # outside it (one image).
    mu = 2 * theta_e / beta if beta < theta_e else 1 + theta_e / beta
    # a fine grid (0.01 arcsec samples) so the small source is resolved in every image
    grid = PixelGrid(251, 0.04, oversample=4)
    source = Sersic(flux=2.0, r_eff=0.04, n=1.0, x0=beta)
    image = lensed_image(grid, [SIE(theta_e)], source)
    assert image.sum() == pytest.approx(2.0 * mu, rel=0.03)


def test_sie_convergence_matches_its_definition():
    lens = SIE(1.4, q=0.6, phi=0.3, x0=0.2, y0=-0.1)
    h = 1e-5
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-3, 3, 200), rng.uniform(-3, 3, 200)
    axp, _ = lens.deflection(x + h, y)
    axm, _ = lens.deflection(x - h, y)
    _, ayp = lens.deflection(x, y + h)
    _, aym = lens.deflection(x, y - h)
    kappa = 0.5 * ((axp - axm) + (ayp - aym)) / (2 * h)
    c, s = np.cos(0.3), np.sin(0.3)
    xp = c * (x - 0.2) + s * (y + 0.1)
    yp = -s * (x - 0.2) + c * (y + 0.1)
    expected = 1.4 * np.sqrt(0.6) / (2 * np.sqrt(0.36 * xp**2 + yp**2))
    np.testing.assert_allclose(kappa, expected, rtol=1e-4)


def test_nearly_round_sie_equals_sis():
    x = np.linspace(-2, 2, 41)
    xx, yy = np.meshgrid(x, x)
    a1 = SIE(1.0, q=1.0).deflection(xx, yy)
    a2 = SIE(1.0, q=0.99999).deflection(xx, yy)
    np.testing.assert_allclose(a1, a2, atol=1e-4)


def test_sersic_half_light_and_total_flux():
    assert sersic_b(4.0) == pytest.approx(7.669, abs=1e-3)
    prof = Sersic(flux=3.0, r_eff=0.8, n=2.5, q=0.6, phi=1.0)
    grid = PixelGrid(301, 0.05, oversample=3)
    x, y = grid.coordinates()
    sb = prof.surface_brightness(x, y)
    assert grid.bin(sb).sum() * grid.pixel_area == pytest.approx(3.0, rel=0.01)


def test_moffat_kernel_is_normalised_and_has_its_fwhm():
    k = moffat_kernel(1.3, SCALE, beta=3.5, size=51)
    assert k.sum() == pytest.approx(1.0)
    c = 25
    row = k[c]
    half = row.max() / 2
    above = np.flatnonzero(row >= half)
    width_pix = above[-1] - above[0] + 1
    assert abs(width_pix * SCALE - 1.3) < 2 * SCALE


def test_render_arcs_scales_to_the_requested_lensed_flux():
    grid = PixelGrid(101, SCALE, oversample=3)
    kernels = [moffat_kernel(f, SCALE) for f in (1.4, 1.3, 1.2)]
    arcs = render_arcs(
        grid, [SIE(1.5)], Sersic(1.0, 0.2, 1.0, x0=0.3), np.array([1.0, 2.0, 3.0]), kernels
    )
    assert arcs.shape == (3, 101, 101)
    np.testing.assert_allclose(arcs.sum(axis=(1, 2)), [1.0, 2.0, 3.0], rtol=1e-3)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: SIE(-1.0), "theta_e"),
        (lambda: SIE(1.0, q=1.5), "q"),
        (lambda: Sersic(1.0, r_eff=-0.1, n=1), "r_eff"),
        (lambda: Sersic(1.0, r_eff=0.1, n=0), "n"),
        (lambda: PixelGrid(100, SCALE), "size"),
        (lambda: PixelGrid(101, -1.0), "pixel_scale"),
        (lambda: moffat_kernel(-1.0, SCALE), "fwhm_arcsec"),
    ],
)
def test_bad_parameters_name_themselves(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
