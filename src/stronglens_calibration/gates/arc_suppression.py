"""Gate 1.7's suppression: remove the light that could be arcs, and nothing else.

An earlier version replaced the whole arc annulus (1.5-26 px, 87 % of the network's input)
by its azimuthal median plus noise. That measured whether the network needs the ring
around the centre rather than the arcs: it changed arc-free images more than the arcs
changed lens images, left the azimuthally averaged arc light (76 % of it in an audit) as
a smooth ring, and erased a mask artefact in the annulus along with the arcs, so a
network that had learnt the artefact passed.

This suppression touches only excess light. Per object and band, a model of the lens
light is fitted in each 1-pixel ring of the annulus: a level, its radial slope across the
ring and a quadrupole (``a + d (r - r_ring) + b cos 2 phi + c sin 2 phi``: an elliptical
galaxy's rings), by least squares over the pixels neither flagged as excess nor far below
the previous fit (iterated, so that an arc does not lift its own ring and a zeroed patch
does not pull it down). A ring that an arc covers almost whole takes its level from the
rings inside and outside it (the core's included), not from what is left of it. Pixels
whose combined g + r + z excess over that model, smoothed over about a PSF, exceeds
``detect_sigma`` are flagged, the flags grown by ``grow_px`` (the PSF wings), and only the
flagged pixels are replaced by the model plus noise at the sky level. Arc-free light (the
lens galaxy, noise, a negative artefact such as a zeroed patch) is left as it is; a
neighbour in the annulus is removed as an arc would be, in lenses and non-lenses alike,
which is why the gate compares suppressed lenses with equally suppressed non-lenses.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter

from stronglens_calibration.parameter_schema import PositiveFloat, PositiveInt, Section
from stronglens_calibration.stamps.geometry import annulus_mask, core_mask, radius_map
from stronglens_calibration.stamps.statistics import MAD_TO_SIGMA, nanmedian_rows


class ExcessLight(Section):
    """How excess light is found (pixels; ``globals.arc_light``, read by
    ``shortcut_gates.arc_suppression`` and ``evaluate.realism.arc_light``).

    Attributes
    ----------
    detect_sigma : float
        Detection threshold on the smoothed combined excess, in units of its own spread
        in the sky ring (noise alone exceeds 3 in about 0.1 % of the pixels).
    smooth_px : float
        Gaussian sigma of the smoothing (about the PSF's: a DR10 r FWHM of 1.3" is
        2.1 px).
    grow_px : float
        Radius by which the flagged region is grown (the PSF's wings): pixels closer
        than this to a flagged one are flagged too.
    iterations : int
        Fits of the ring model, each without the pixels the previous one flagged.
    """

    detect_sigma: PositiveFloat = 3.0
    smooth_px: PositiveFloat = 2.1
    grow_px: PositiveFloat = 2.5
    iterations: PositiveInt = 3


def _ring_design(r: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """``(p, 4)`` columns 1, r - mean r, cos 2 phi, sin 2 phi of a ring's pixels."""
    h = r.shape[0]
    yy, xx = np.indices(r.shape)
    phi = np.arctan2(yy - h // 2, xx - h // 2).ravel()[ring]
    radius = r.ravel()[ring]
    return np.stack(
        [np.ones_like(phi), radius - radius.mean(), np.cos(2 * phi), np.sin(2 * phi)], axis=1
    )


#: A ring whose usable pixels are fewer than this fraction (an arc or an Einstein ring
#: covers the rest) takes its level from the rings around it instead of its own fit.
MIN_RING_SUPPORT = 0.3


def _fit_ring(
    values: np.ndarray, use: np.ndarray, design: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of the ring model (the columns of ``design``, ``(p, k)``; the first
    is the level) per row of ``values`` ``(m, p)`` over the pixels ``use`` (bool
    ``(m, p)``).

    Returns
    -------
    fitted : numpy.ndarray
        float32 ``(m, p)``, the model at the ring's pixels.
    level : numpy.ndarray
        float64 ``(m,)``, the model's mean over the ring.
    supported : numpy.ndarray
        bool ``(m,)``: enough usable pixels (:data:`MIN_RING_SUPPORT`, and two per
        parameter) for the fit to describe the ring.
    """
    weights = (use & np.isfinite(values)).astype(np.float64)
    y = np.where(weights > 0, values, 0.0).astype(np.float64)
    normal = np.einsum("rp,pi,pj->rij", weights, design, design)
    rhs = np.einsum("rp,pi,rp->ri", weights, design, y)
    count = weights.sum(axis=1)
    k = design.shape[1]
    coeffs = np.zeros((len(values), k))
    coeffs[:, 0] = np.divide(rhs[:, 0], count, out=np.zeros_like(count), where=count > 0)
    supported = (count >= max(2 * k, MIN_RING_SUPPORT * values.shape[1])) & (
        np.linalg.cond(normal) < 1e8
    )
    if supported.any():
        coeffs[supported] = np.linalg.solve(normal[supported], rhs[supported][:, :, None])[:, :, 0]
    fitted = coeffs @ design.T
    return fitted.astype(np.float32), fitted.mean(axis=1), supported


def _interpolated_levels(
    levels: np.ndarray, supported: np.ndarray, radii: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """Levels of unsupported rings from the supported ones around them, row by row:
    interpolated in ``asinh(level / sigma)`` (logarithmic where the galaxy is bright,
    linear near the sky) against the ring radius; rows with fewer than two supported
    rings keep their own levels. ``levels``, ``supported``: ``(m, R)``; ``radii``:
    ``(R,)``; ``sigma``: ``(m,)``."""
    out = levels.copy()
    for i in np.flatnonzero((~supported).any(axis=1) & (supported.sum(axis=1) >= 2)):
        ok = supported[i]
        scale = float(sigma[i])
        stretched = np.interp(radii[~ok], radii[ok], np.arcsinh(levels[i, ok] / scale))
        out[i, ~ok] = np.sinh(stretched) * scale
    return out


def _sky_level_and_sigma(flat: np.ndarray, sky: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and 1.4826 x MAD of the sky ring ``sky`` (bool ``(h * w,)``) per row of
    ``flat`` ``(m, h * w)``; float32 ``(m,)`` each."""
    pixels = flat[:, sky]
    median = nanmedian_rows(pixels).astype(np.float32)
    sigma = MAD_TO_SIGMA * nanmedian_rows(np.abs(pixels - median[:, None]))
    return median, np.maximum(sigma, 1e-12).astype(np.float32)


def excess_light_mask(
    stamps: np.ndarray,
    annulus_px: tuple[float, float],
    noise_annulus_px: tuple[float, float],
    excess: ExcessLight,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of the annulus that hold light in excess of the lens light.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
    annulus_px : tuple of float
        Inner and outer radius (pixels) where arcs can be.
    noise_annulus_px : tuple of float
        Sky-dominated ring (pixels) where the noise level is measured.
    excess : ExcessLight
        Detection settings.

    Returns
    -------
    mask : numpy.ndarray
        bool ``(n, H, W)``: flagged pixels (inside the annulus only; the same in every
        band).
    model : numpy.ndarray
        float32 ``(n, 3, H, W)``: the ring-by-ring lens-light model inside the annulus,
        the stamp elsewhere.
    sigma : numpy.ndarray
        float32 ``(n, 3)``: sky sigma per band, nanomaggies per pixel.
    """
    n, nb, h, w = stamps.shape
    r = radius_map(h)
    hi = annulus_px[1]
    annulus = annulus_mask(h, *annulus_px)
    sky = annulus_mask(h, *noise_annulus_px).ravel()
    flat = np.asarray(stamps, dtype=np.float32).reshape(n * nb, h * w)
    # the sky ring's own model is its median: its residuals are the noise the detection
    # is normalised by
    sky_level, sigma = _sky_level_and_sigma(flat, sky)
    # rings from the centre: the core's are never flagged and anchor the interpolation
    # of rings an arc covers almost whole; only the annulus' rings enter the model
    rings = [((r >= k) & (r < min(k + 1, hi))).ravel() for k in np.arange(0.0, np.ceil(hi))]
    rings = [(m, _ring_design(r, m)) for m in rings if m.any()]
    radii = np.array([r.ravel()[m].mean() for m, _ in rings])
    in_annulus = annulus.ravel()
    grow = int(np.ceil(excess.grow_px))
    footprint = core_mask(2 * grow + 1, excess.grow_px)
    mask = np.zeros((n, h, w), dtype=bool)
    model = flat.copy()
    for _ in range(excess.iterations):
        held_out = np.repeat(mask.reshape(n, 1, h * w), nb, axis=1).reshape(n * nb, h * w)
        # pixels far below the last model (a zeroed patch, a masked pixel) do not pull it
        held_out |= (flat - model) < -excess.detect_sigma * sigma[:, None]
        fits = [_fit_ring(flat[:, m], ~held_out[:, m], design) for m, design in rings]
        levels = np.stack([f[1] for f in fits], axis=1)
        supported = np.stack([f[2] for f in fits], axis=1)
        filled = _interpolated_levels(levels, supported, radii, sigma)
        for j, ((m, _), (fitted, _, ok)) in enumerate(zip(rings, fits, strict=True)):
            values = np.where(ok[:, None], fitted, filled[:, j, None].astype(np.float32))
            write = in_annulus[m]
            model[:, np.flatnonzero(m)[write]] = values[:, write]
        model[:, sky] = sky_level[:, None]
        significance = ((flat - model) / sigma[:, None]).reshape(n, nb, h, w)
        combined = np.nan_to_num(significance, nan=0.0).sum(axis=1) / np.float32(np.sqrt(nb))
        smoothed = gaussian_filter(combined, sigma=(0, excess.smooth_px, excess.smooth_px))
        # the smoothed sky's own spread (coadd noise is correlated: no white-noise factor)
        spread = _sky_level_and_sigma(smoothed.reshape(n, h * w), sky)[1][:, None, None]
        detected = (smoothed / spread > excess.detect_sigma) & annulus
        grown = binary_dilation(detected, structure=footprint[None]) & annulus
        if np.array_equal(grown, mask):
            break
        mask = grown
    model[:, sky] = flat[:, sky]
    return mask, model.reshape(n, nb, h, w), sigma.reshape(n, nb)


def suppress_arcs(
    stamps: np.ndarray,
    annulus_px: tuple[float, float],
    noise_annulus_px: tuple[float, float],
    rng: np.random.Generator,
    excess: ExcessLight | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the excess light of the annulus by the lens-light model plus sky noise.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
    annulus_px, noise_annulus_px : tuple of float
        As for :func:`excess_light_mask`.
    rng : numpy.random.Generator
        Source of the replacement noise.
    excess : ExcessLight, optional
        Detection settings (the defaults of :class:`ExcessLight`).

    Returns
    -------
    suppressed : numpy.ndarray
        float32 copy of ``stamps`` with the flagged pixels replaced.
    replaced_fraction : numpy.ndarray
        float64 ``(n,)``: the fraction of each stamp's annulus pixels that were replaced.
    """
    excess = excess or ExcessLight()
    n, nb, h, w = stamps.shape
    mask, model, sigma = excess_light_mask(stamps, annulus_px, noise_annulus_px, excess)
    out = np.array(stamps, dtype=np.float32, copy=True)
    noise = rng.standard_normal(out.shape).astype(np.float32) * sigma[:, :, None, None]
    replace = np.broadcast_to(mask[:, None], out.shape)
    out[replace] = (model + noise)[replace]
    replaced = mask[:, annulus_mask(h, *annulus_px)].mean(axis=1)
    return out, replaced.astype(np.float64)
