"""Cutouts from DR10 coadd bricks: real TAN WCS headers, a point source at a known RA/Dec
on the stamp's centre pixel, edge objects flagged, missing bands NaN, fpack images."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from stronglens_calibration.datasets import BrickImagesDataset
from stronglens_calibration.stamps.bricks import EDGE_ERROR, extract_brick, image_path

SIDE = 400  # pixels; DR10 bricks are 3600, the geometry is the same


def brick_wcs(ra_c: float, dec_c: float, side: int = SIDE) -> WCS:
    """The WCS the Legacy Surveys coadds carry: TAN about the brick centre, RA to the left."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra_c, dec_c]
    w.wcs.crpix = [(side + 1) / 2, (side + 1) / 2]
    w.wcs.cd = [[-0.262 / 3600, 0.0], [0.0, 0.262 / 3600]]
    return w


def write_brick(root, brick, wcs, images: dict[str, np.ndarray], compress: bool = False):
    for band, image in images.items():
        path = root / image_path(brick, band)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = wcs.to_header()
        if compress:
            hdu = fits.CompImageHDU(image.astype(np.float32), header=header, quantize_level=-0.0005)
            fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
        else:
            fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(image, header=header)]).writeto(path)


@pytest.fixture
def brick(tmp_path):
    """Brick 1500p100 at (150.0, 10.0) with point sources at known pixels in g, r, z."""
    wcs = brick_wcs(150.0, 10.0)
    rng = np.random.default_rng(0)
    images = {b: rng.normal(0, 0.002, (SIDE, SIDE)).astype(np.float32) for b in "grz"}
    pixels = {"centre": (123, 250), "edge": (30, 200), "corner": (SIDE - 51, SIDE - 51)}
    for k, band in enumerate("grz"):
        for x, y in pixels.values():
            images[band][y, x] = 1.0 + k  # x is the column, y the row
    write_brick(tmp_path, "1500p100", wcs, images)
    radec = {name: wcs.pixel_to_world_values(x, y) for name, (x, y) in pixels.items()}
    return tmp_path, images, pixels, radec


def _opener(root):
    return BrickImagesDataset(str(root)).load()


def test_a_source_at_a_known_position_lands_on_the_centre_pixel(brick):
    root, images, pixels, radec = brick
    names = ["centre", "corner"]
    ra = np.array([radec[n][0] for n in names])
    dec = np.array([radec[n][1] for n in names])
    out = extract_brick("1500p100", ra, dec, _opener(root), 101)
    assert out.errors == ["", ""]
    assert out.bands_present == ["grz", "grz"]
    for i, name in enumerate(names):
        x, y = pixels[name]
        for k in range(3):
            stamp = out.pixels[i, k]
            assert stamp[50, 50] == pytest.approx(1.0 + k)
            assert np.unravel_index(np.argmax(stamp), stamp.shape) == (50, 50)
            np.testing.assert_array_equal(stamp, images["grz"[k]][y - 50 : y + 51, x - 50 : x + 51])
    # a position a third of a pixel off still picks the pixel that contains it
    w = brick_wcs(150.0, 10.0)
    ra2, dec2 = w.pixel_to_world_values(123.33, 249.7)
    out2 = extract_brick("1500p100", np.array([ra2]), np.array([dec2]), _opener(root), 101)
    assert out2.pixels[0, 1, 50, 50] == pytest.approx(2.0)


def test_a_source_near_the_brick_edge_is_flagged_not_cut_wrong(brick):
    root, _, _, radec = brick
    ra = np.array([radec["edge"][0], radec["centre"][0]])
    dec = np.array([radec["edge"][1], radec["centre"][1]])
    out = extract_brick("1500p100", ra, dec, _opener(root), 101)
    assert out.errors == [EDGE_ERROR, ""]
    assert out.bands_present[0] == ""
    assert np.isnan(out.pixels[0]).all()
    assert np.isfinite(out.pixels[1]).all()


def test_a_band_without_an_image_is_nan_and_not_listed(brick):
    root, _, _, radec = brick
    (root / image_path("1500p100", "z")).unlink()
    out = extract_brick(
        "1500p100",
        np.array([radec["centre"][0]]),
        np.array([radec["centre"][1]]),
        _opener(root),
        51,
    )
    assert out.bands_present == ["gr"]
    assert np.isnan(out.pixels[0, 2]).all() and np.isfinite(out.pixels[0, :2]).all()
    missing = extract_brick("0000p000", np.array([0.0]), np.array([0.0]), _opener(root), 51)
    assert missing.errors == ["no image of brick 0000p000"]


def test_fpack_compressed_images_are_read_with_their_wcs(tmp_path):
    wcs = brick_wcs(20.0, -5.0)
    image = np.zeros((SIDE, SIDE), np.float32)
    image[180, 220] = 5.0
    write_brick(tmp_path, "0200m050", wcs, {"r": image}, compress=True)
    ra, dec = wcs.pixel_to_world_values(220, 180)
    out = extract_brick(
        "0200m050", np.array([ra]), np.array([dec]), _opener(tmp_path), 21, bands="r"
    )
    assert out.bands_present == ["r"]
    assert out.pixels[0, 1, 10, 10] == pytest.approx(5.0, rel=1e-3)
    assert np.isnan(out.pixels[0, 0]).all()


def test_even_stamp_sizes_are_refused():
    with pytest.raises(ValueError, match="'size' must be odd"):
        extract_brick("x", np.zeros(1), np.zeros(1), lambda b, f: None, 100)
