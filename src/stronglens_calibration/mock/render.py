"""Render one mock DR10 cutout from its population row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stronglens_calibration import BANDS
from stronglens_calibration.lensing.arcs import render_composite_arcs, render_lens_system
from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.noise import add_coadd_noise
from stronglens_calibration.lensing.profiles import Gaussian, Sersic
from stronglens_calibration.lensing.psf import convolve, moffat_kernel
from stronglens_calibration.mock.clutter import companion_radii, draw_galaxy_mags
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.confusers import ShapedComponent, confuser_components
from stronglens_calibration.mock.sources import clumpy_disc_components
from stronglens_calibration.photometry import band_fluxes
from stronglens_calibration.stamps.geometry import centre_slice

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


#: Neighbours fainter than this (r, AB) are drawn at the native pixels: smaller than the
#: PSF, they need no sub-pixel sampling.
_FAINT_NEIGHBOUR_MAG_R = 22.0


def _clutter(
    row: Mapping[str, Any], cfg: MockSurveyConfig, rng: np.random.Generator
) -> tuple[list[ShapedComponent], list[ShapedComponent]]:
    """Neighbouring galaxies (magnitudes from the number counts) and stars of a stamp:
    ``(sampled, faint)``, the faint galaxies to be drawn at the native pixels."""
    c = cfg.clutter
    half = cfg.stamp.size // 2 * cfg.stamp.pixel_scale
    n_gal, n_star = int(row["n_neighbours"]), int(row["n_stars"])
    mags = draw_galaxy_mags(n_gal, c, rng)
    sampled, faint = [], []
    for k in range(n_gal + n_star):
        while True:
            x0, y0 = rng.uniform(-half, half, 2)
            if np.hypot(x0, y0) >= c.min_separation_arcsec:
                break
        if k < n_gal:
            # fainter galaxies are smaller: 0.6" median at r = 21, 0.3" at r = 24
            size = 0.6 * 10 ** (-0.1 * (mags[k] - 21.0) + rng.uniform(-0.2, 0.2))
            shape = Sersic(
                1.0,
                float(size),
                rng.uniform(0.8, 2.5),
                rng.uniform(0.3, 1.0),
                rng.uniform(0, np.pi),
                x0,
                y0,
            )
            fl = band_fluxes(mags[k], rng.uniform(0.3, 1.8), rng.uniform(0.2, 1.0))
            (faint if mags[k] > _FAINT_NEIGHBOUR_MAG_R else sampled).append(
                ShapedComponent(shape, fl)
            )
        else:
            shape = Gaussian(1.0, _STAR_SIGMA_ARCSEC, x0=x0, y0=y0)
            fl = band_fluxes(
                rng.uniform(*c.star_mag_r), rng.uniform(0.3, 1.4), rng.uniform(0.0, 0.6)
            )
            sampled.append(ShapedComponent(shape, fl))
    n_comp = int(row.get("n_companions", 0))
    if n_comp:
        radius = companion_radii(n_comp, c.min_separation_arcsec, half, rng)
        angle = rng.uniform(0, 2 * np.pi, n_comp)
        offsets = rng.uniform(*c.companion_mag_offset, n_comp)
        for k in range(n_comp):
            shape = Sersic(
                1.0,
                float(rng.uniform(0.3, 1.0)),
                float(rng.uniform(1.0, 4.0)),
                float(rng.uniform(0.5, 1.0)),
                float(rng.uniform(0, np.pi)),
                float(radius[k] * np.cos(angle[k])),
                float(radius[k] * np.sin(angle[k])),
            )
            fl = band_fluxes(
                float(row["mag_r"]) + offsets[k],
                float(row["g_minus_r"]) + rng.normal(0, 0.1),
                float(row["r_minus_z"]) + rng.normal(0, 0.1),
            )
            sampled.append(ShapedComponent(shape, fl))
    return sampled, faint


def _window(shape: Any, axis: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the sample grid (``axis``: the sample coordinates, arcsec)
    within which a neighbour has its light: 12 half-light radii for a Sersic (more than
    98 % of the flux up to n = 4), 6 sigma for a Gaussian, at least 2 arcsec."""
    if isinstance(shape, Sersic):
        half = max(12.0 * shape.r_eff, 2.0)
    elif isinstance(shape, Gaussian):
        half = max(6.0 * shape.sigma, 2.0)
    else:
        return slice(None), slice(None)

    def span(centre: float) -> slice:
        lo = int(np.searchsorted(axis, centre - half))
        return slice(lo, max(int(np.searchsorted(axis, centre + half)), lo + 1))

    return span(shape.y0), span(shape.x0)


def _sampled(shape: Any, x: np.ndarray, y: np.ndarray, sample_area: float) -> np.ndarray:
    """A shape's surface brightness at point samples of ``sample_area`` arcsec^2, with the
    profiles' own correction for features narrower than a sample where they have one."""
    if hasattr(shape, "sampled_surface_brightness"):
        return shape.sampled_surface_brightness(x, y, sample_area)
    return shape.surface_brightness(x, y)


def true_arcs(
    row: Mapping[str, Any], cfg: MockSurveyConfig, kernels: list[np.ndarray]
) -> np.ndarray:
    """The arcs of a mock lens with its true source model (``lensed_source.model``):
    float64 ``(3, H, W)``, nanomaggies per pixel, PSF-convolved, noise-free. They are
    rendered in the central ``stamp.arc_render_size_px`` pixels (as the injections are):
    at most 0.7 % of a demo lens's arc flux lies beyond 26 px."""
    st = cfg.stamp
    size = min(st.arc_render_size, st.size)
    arc_grid = PixelGrid(size, st.pixel_scale, st.arc_oversample)
    if cfg.lensed_source.model == "sersic":
        arcs = render_lens_system(row, arc_grid, kernels)
    else:
        rng = np.random.default_rng([cfg.seed, int(row["render_index"]), 2])
        components = clumpy_disc_components(row, cfg.lensed_source.clumpy_disc, rng)
        arcs = render_composite_arcs(row, components, arc_grid, kernels)
    if size == st.size:
        return arcs
    out = np.zeros((arcs.shape[0], st.size, st.size))
    window = centre_slice(st.size, size)
    out[:, window, window] = arcs
    return out


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
    sampled, faint = _clutter(row, cfg, rng)
    components = [central_component(row), *confuser_of(row, cfg)]
    sb = np.zeros((len(BANDS), *x.shape))
    sample_area = (st.pixel_scale / st.oversample) ** 2
    for comp in components:
        sb += comp.fluxes[:, None, None] * _sampled(comp.shape, x, y, sample_area)[None]
    axis = x[0]
    for comp in sampled:  # neighbours: only where they have light
        rows, cols = _window(comp.shape, axis)
        local = _sampled(comp.shape, x[rows, cols], y[rows, cols], sample_area)
        sb[:, rows, cols] += comp.fluxes[:, None, None] * local[None]
    image = grid.bin(sb) * grid.pixel_area
    if faint:
        native = PixelGrid(st.size, st.pixel_scale, 1)
        xn, yn = native.coordinates()
        for comp in faint:
            sb_native = _sampled(comp.shape, xn, yn, native.pixel_area) * native.pixel_area
            image += comp.fluxes[:, None, None] * sb_native[None]
    fwhm = [float(row[f"fwhm_{b}"]) for b in BANDS]
    kernels = [moffat_kernel(f, st.pixel_scale, cfg.psf.moffat_beta) for f in fwhm]
    image = np.stack([convolve(image[i], kernels[i]) for i in range(len(BANDS))])
    if row["kind"] == "lens":
        image += true_arcs(row, cfg, kernels)
    keep = [BANDS.index(b) for b in st.bands]
    sigma = cfg.noise.sky_sigma * float(row["depth_factor"])
    nobs = np.array([int(row[f"nobs_{b}"]) for b in st.bands])
    stamp = add_coadd_noise(
        image[keep], sigma, cfg.noise.counts_per_nanomaggy, nobs, cfg.noise.charge_diffusion_px, rng
    )
    for i, b in enumerate(st.bands):
        if int(row[f"nobs_{b}"]) == 0:  # no exposure in this band: the coadd is empty
            stamp[i] = 0.0
    if str(row["defect"]).startswith("nan"):
        _nan_defect(stamp, str(row["defect"]), rng)
    return stamp
