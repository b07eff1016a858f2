"""Render one mock DR10 cutout from its population row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stronglens_calibration import BANDS
from stronglens_calibration.lensing.arcs import render_lens_system
from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.noise import add_noise
from stronglens_calibration.lensing.profiles import Gaussian, Sersic
from stronglens_calibration.lensing.psf import convolve, moffat_kernel
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.confusers import ShapedComponent, confuser_components
from stronglens_calibration.photometry import band_fluxes

#: Width in arcsec of the narrow Gaussian that stands for a star before the PSF.
_STAR_SIGMA_ARCSEC = 0.03


def object_rngs(seed: int, render_index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The two generators of one object: (pixels and clutter, confuser structure).

    Seeded from ``(seed, render_index)`` alone, so any object renders the same whatever
    the order, process or batch it is rendered in.
    """
    return (
        np.random.default_rng([seed, render_index, 0]),
        np.random.default_rng([seed, render_index, 1]),
    )


def central_component(row: Mapping[str, Any]) -> ShapedComponent:
    """The central galaxy (lens or not) as a unit-flux Sersic with g, r, z fluxes."""
    shape = Sersic(
        1.0,
        float(row["r_eff"]),
        float(row["sersic_n"]),
        float(row["axis_ratio"]),
        float(row["phi"]),
    )
    fluxes = band_fluxes(row["mag_r"], row["g_minus_r"], row["r_minus_z"])
    return ShapedComponent(shape, fluxes)


def confuser_of(row: Mapping[str, Any], cfg: MockSurveyConfig) -> list[ShapedComponent]:
    """The confuser structure of a row (empty for ordinary galaxies and lenses)."""
    kind = str(row["confuser"])
    if not kind:
        return []
    _, rng = object_rngs(cfg.seed, int(row["render_index"]))
    return confuser_components(
        kind, float(row["mag_r"]), float(row["axis_ratio"]), float(row["phi"]), rng
    )


def _clutter(
    row: Mapping[str, Any], cfg: MockSurveyConfig, rng: np.random.Generator
) -> list[ShapedComponent]:
    c = cfg.clutter
    half = cfg.stamp.size // 2 * cfg.stamp.pixel_scale
    comps = []
    for kind, count in (("galaxy", int(row["n_neighbours"])), ("star", int(row["n_stars"]))):
        for _ in range(count):
            while True:
                x0, y0 = rng.uniform(-half, half, 2)
                if np.hypot(x0, y0) >= c.min_separation_arcsec:
                    break
            if kind == "galaxy":
                shape = Sersic(
                    1.0,
                    rng.uniform(0.3, 1.0),
                    rng.uniform(0.8, 2.5),
                    rng.uniform(0.3, 1.0),
                    rng.uniform(0, np.pi),
                    x0,
                    y0,
                )
                fl = band_fluxes(
                    rng.uniform(*c.neighbour_mag_r), rng.uniform(0.3, 1.8), rng.uniform(0.2, 1.0)
                )
            else:
                shape = Gaussian(1.0, _STAR_SIGMA_ARCSEC, x0=x0, y0=y0)
                fl = band_fluxes(
                    rng.uniform(*c.star_mag_r), rng.uniform(0.3, 1.4), rng.uniform(0.0, 0.6)
                )
            comps.append(ShapedComponent(shape, fl))
    return comps


def _nan_defect(image: np.ndarray, defect: str, rng: np.random.Generator) -> None:
    """Blank a patch with NaN, in the core for ``nan_core``, like a failed coadd read."""
    _, h, w = image.shape
    band = rng.integers(0, image.shape[0])
    if defect == "nan_core":
        half = rng.integers(2, 5)
        cy, cx = h // 2, w // 2
        image[band, cy - half : cy + half + 1, cx - half : cx + half + 1] = np.nan
    else:
        size = rng.integers(2, 8)
        y0, x0 = rng.integers(0, h - size), rng.integers(0, w // 4)
        image[band, y0 : y0 + size, x0 : x0 + size] = np.nan


def render_object(row: Mapping[str, Any], cfg: MockSurveyConfig) -> np.ndarray:
    """Render one object's cutout.

    Parameters
    ----------
    row : Mapping
        One row of the population table (:func:`~.population.draw_population`).
    cfg : MockSurveyConfig
        Validated parameters.

    Returns
    -------
    numpy.ndarray
        float32 ``(B, H, W)``, bands in ``cfg.stamp.bands`` order (g, r, z), nanomaggies
        per pixel, 0.262 arcsec pixels by default; NaN where the row carries a NaN defect,
        zero in a band with no exposure (``nobs_<band> == 0``), as in DR10 coadds.
    """
    st = cfg.stamp
    rng, _ = object_rngs(cfg.seed, int(row["render_index"]))
    grid = PixelGrid(st.size, st.pixel_scale, st.oversample)
    x, y = grid.coordinates()
    components = [central_component(row), *confuser_of(row, cfg), *_clutter(row, cfg, rng)]
    sb = np.zeros((len(BANDS), *x.shape))
    for comp in components:
        sb += comp.fluxes[:, None, None] * comp.shape.surface_brightness(x, y)[None]
    image = grid.bin(sb) * grid.pixel_area
    fwhm = [float(row[f"fwhm_{b}"]) for b in BANDS]
    kernels = [moffat_kernel(f, st.pixel_scale, cfg.psf.moffat_beta) for f in fwhm]
    image = np.stack([convolve(image[i], kernels[i]) for i in range(len(BANDS))])
    if row["kind"] == "lens":
        arc_grid = PixelGrid(st.size, st.pixel_scale, st.arc_oversample)
        image += render_lens_system(row, arc_grid, kernels)
    keep = [BANDS.index(b) for b in st.bands]
    sigma = cfg.noise.sky_sigma * float(row["depth_factor"])
    stamp = add_noise(image[keep], sigma, cfg.noise.counts_per_nanomaggy, rng)
    for i, b in enumerate(st.bands):
        if int(row[f"nobs_{b}"]) == 0:  # no exposure in this band: the coadd is empty
            stamp[i] = 0.0
    if str(row["defect"]).startswith("nan"):
        _nan_defect(stamp, str(row["defect"]), rng)
    return stamp
