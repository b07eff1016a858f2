"""Stamps cut from DR10 coadd brick images: each brick's per-band image is opened once for
all its objects, the object's RA/Dec is mapped to a pixel with the image's own WCS, and
objects too close to the brick edge for a whole stamp are flagged rather than cut wrong.

DR10 coadds are 3600 x 3600 pixels (0.262"/pixel, TAN projection about the brick centre)
on a 0.25 deg grid, so neighbouring bricks overlap by about 170 pixels: an object that is
primary in its brick (BRICKNAME of its sweep row) lies at least ~85 pixels from the edge,
and a 101-pixel stamp around it fits. An object flagged here was assigned the wrong brick.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from stronglens_calibration import BANDS

#: DR10 layout of coadd images below the coadd root (``{prefix}`` = first 3 characters).
DR10_IMAGE_TEMPLATE = "coadd/{prefix}/{brick}/legacysurvey-{brick}-image-{band}.fits.fz"

#: The error recorded for an object whose stamp would cross the brick edge.
EDGE_ERROR = "too close to brick edge"


def image_path(brick: str, band: str, template: str = DR10_IMAGE_TEMPLATE) -> str:
    """Relative path of one brick's image in one band (``template`` fields: ``prefix``,
    ``brick``, ``band``)."""
    if not brick:
        raise ValueError("an empty brick name has no image")
    return template.format(prefix=brick[:3], brick=brick, band=band)


class BrickImages:
    """Opens ``<root>/<template>`` for a brick and band; picklable (for worker processes
    and Spark executors), nothing is listed or read until an image is opened.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        Filesystem of the coadd tree.
    root : str
        Coadd root (path on ``fs``).
    template : str
        Layout below the root (:data:`~.stamps.bricks.DR10_IMAGE_TEMPLATE`).
    """

    def __init__(self, fs: Any, root: str, template: str = DR10_IMAGE_TEMPLATE) -> None:
        self.fs, self.root, self.template = fs, root.rstrip("/"), template

    def path(self, brick: str, band: str) -> str:
        """Path of one image on the filesystem."""
        return f"{self.root}/{image_path(brick, band, self.template)}"

    def __call__(self, brick: str, band: str) -> IO[bytes]:
        """A binary file of the image; ``FileNotFoundError`` when the brick has none."""
        return self.fs.open(self.path(brick, band), "rb")


def read_image(fileobj: IO[bytes]) -> tuple[np.ndarray, Any]:
    """The first 2-D image of a FITS file (plain or fpack-compressed) and its WCS.

    Returns
    -------
    image : numpy.ndarray
        float32 ``(ny, nx)``, nanomaggies per pixel.
    wcs : astropy.wcs.WCS
        Celestial WCS of the image.
    """
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    with fits.open(fileobj, memmap=False) as hdul:
        for hdu in hdul:
            if hdu.data is not None and np.ndim(hdu.data) == 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FITSFixedWarning)
                    wcs = WCS(hdu.header)
                if not wcs.has_celestial:
                    raise ValueError("the brick image has no celestial WCS")
                return np.asarray(hdu.data, dtype=np.float32), wcs.celestial
    raise ValueError("the FITS file holds no 2-D image")


def stamp_corners(
    wcs: Any, shape: tuple[int, int], ra: np.ndarray, dec: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower-left pixel of each stamp and whether it lies wholly inside the image.

    The stamp is centred on the pixel that contains the object (``round(x)``,
    ``round(y)`` with 0-based pixel centres), as the cutout service does.

    Returns
    -------
    x0, y0 : numpy.ndarray
        int64 first column and row of each stamp.
    inside : numpy.ndarray
        bool, the whole ``size`` x ``size`` stamp is within the image.
    """
    x, y = wcs.world_to_pixel_values(np.asarray(ra, np.float64), np.asarray(dec, np.float64))
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    half = size // 2
    finite = np.isfinite(x) & np.isfinite(y)
    ix = np.where(finite, np.floor(np.where(finite, x, 0) + 0.5), -(10**9)).astype(np.int64)
    iy = np.where(finite, np.floor(np.where(finite, y, 0) + 0.5), -(10**9)).astype(np.int64)
    ny, nx = shape
    inside = (ix - half >= 0) & (iy - half >= 0) & (ix + half < nx) & (iy + half < ny)
    return ix - half, iy - half, inside


@dataclass
class BrickStamps:
    """Stamps of the objects of one brick.

    Attributes
    ----------
    pixels : numpy.ndarray
        float32 ``(n, 3, size, size)`` g, r, z; NaN in a band without an image and for
        objects not cut.
    bands_present : list of str
        Per object, the bands cut (``""`` for an object too close to the edge).
    errors : list of str
        Per object, ``""`` or why it was not cut.
    """

    pixels: np.ndarray
    bands_present: list[str]
    errors: list[str]


def extract_brick(
    brick: str,
    ra: np.ndarray,
    dec: np.ndarray,
    open_image: Callable[[str, str], IO[bytes]],
    size: int,
    bands: Sequence[str] = BANDS,
) -> BrickStamps:
    """Cut ``size`` x ``size`` stamps of every object of one brick.

    Parameters
    ----------
    brick : str
        Brick name (e.g. ``"1126p222"``).
    ra, dec : numpy.ndarray
        ``(n,)`` object positions, deg.
    open_image : callable
        ``open_image(brick, band)`` returns a binary file of that image; raises
        ``FileNotFoundError`` when the brick has no image in the band (no exposure).
    size : int
        Odd stamp side in pixels.
    bands : sequence of str
        Bands to cut, in the project's order.

    Returns
    -------
    BrickStamps
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"'size' must be odd, got {size}")
    n = len(ra)
    pixels = np.full((n, len(BANDS), size, size), np.nan, dtype=np.float32)
    present = [""] * n
    edge = np.zeros(n, dtype=bool)
    seen_any = False
    for band in bands:
        try:
            with open_image(brick, band) as f:
                image, wcs = read_image(f)
        except FileNotFoundError:
            continue  # no image in this band: NaN plane, band not listed
        seen_any = True
        x0, y0, inside = stamp_corners(wcs, image.shape, ra, dec, size)
        edge |= ~inside
        k = BANDS.index(band)
        for i in np.flatnonzero(inside):
            pixels[i, k] = image[y0[i] : y0[i] + size, x0[i] : x0[i] + size]
            present[i] += band
    errors = [EDGE_ERROR if e else "" for e in edge]
    if not seen_any:
        errors = [f"no image of brick {brick}"] * n
    for i in np.flatnonzero(edge):
        pixels[i] = np.nan  # never a partial stamp
        present[i] = ""
    return BrickStamps(pixels, present, errors)
