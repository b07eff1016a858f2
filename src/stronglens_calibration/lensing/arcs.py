"""Lensed sources: ray-traced Sersic arcs, per band and PSF-convolved.

The evaluate pipeline injects the parametric model (one Sersic source,
:func:`render_lens_system`) into real negatives. The mock survey's true lenses use a
richer source (several components of their own colours, :func:`render_composite_arcs`),
so that the injection-realism checks have a real gap to find on the demo, as they have
on real data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.mass import SIE, Deflector, ExternalShear, ray_trace
from stronglens_calibration.lensing.profiles import Sersic
from stronglens_calibration.lensing.psf import convolve
from stronglens_calibration.photometry import band_fluxes


def lensed_image(grid: PixelGrid, deflectors: Sequence[Deflector], source: Sersic) -> np.ndarray:
    """Image of a lensed Sersic source, before the PSF.

    Lensing conserves surface brightness: each sub-pixel sample takes the source's
    surface brightness at its ray-traced source-plane position.

    Parameters
    ----------
    grid : PixelGrid
        Stamp geometry and sub-pixel sampling.
    deflectors : sequence of Deflector
        Mass components (e.g. ``[SIE(...), ExternalShear(...)]``).
    source : Sersic
        Source light in the source plane; its ``flux`` is the unlensed flux.

    Returns
    -------
    numpy.ndarray
        float64 ``(size, size)`` in nanomaggies per pixel. Its sum is ``source.flux``
        times the magnification (of the part of the image inside the stamp).
    """
    x, y = grid.coordinates()
    bx, by = ray_trace(x, y, deflectors)
    return grid.bin(source.surface_brightness(bx, by)) * grid.pixel_area


def render_arcs(
    grid: PixelGrid,
    deflectors: Sequence[Deflector],
    source: Sersic,
    lensed_flux: np.ndarray,
    psf_kernels: Sequence[np.ndarray],
) -> np.ndarray:
    """Multi-band lensed arcs scaled to a given lensed (observed) flux per band.

    Parameters
    ----------
    grid : PixelGrid
        Stamp geometry and sub-pixel sampling.
    deflectors : sequence of Deflector
        Mass components.
    source : Sersic
        Source shape; its ``flux`` is ignored (the image is rescaled).
    lensed_flux : numpy.ndarray
        Total lensed flux per band in nanomaggies, shape ``(B,)``, band order g, r, z.
    psf_kernels : sequence of numpy.ndarray
        One unit-sum kernel per band.

    Returns
    -------
    numpy.ndarray
        float64 ``(B, size, size)`` in nanomaggies per pixel, PSF-convolved.
    """
    lensed_flux = np.asarray(lensed_flux, dtype=np.float64)
    if lensed_flux.ndim != 1 or len(psf_kernels) != lensed_flux.size:
        raise ValueError(
            f"'lensed_flux' must be (B,) with one PSF kernel per band; got {lensed_flux.shape}"
            f" and {len(psf_kernels)} kernels"
        )
    image = lensed_image(grid, deflectors, source)
    total = image.sum()
    if not total > 0:
        raise ValueError("the lensed source falls outside the stamp; move it or enlarge the stamp")
    unit = image / total
    return np.stack([convolve(unit * f, k) for f, k in zip(lensed_flux, psf_kernels, strict=True)])


def render_lens_system(
    system: Mapping[str, Any], grid: PixelGrid, psf_kernels: Sequence[np.ndarray]
) -> np.ndarray:
    """g, r, z arcs of one lens system given by named parameters.

    The mock survey's positives and the evaluate pipeline's injections are both rendered
    here, from rows with the same column names.

    Parameters
    ----------
    system : Mapping
        ``theta_e`` (arcsec), ``mass_q``, ``mass_phi`` (rad), ``gamma1``, ``gamma2``
        (SIE plus external shear, centred on the stamp); ``src_r_eff`` (arcsec),
        ``src_n``, ``src_q``, ``src_phi`` (rad), ``src_x``, ``src_y`` (arcsec; the
        Sersic source); ``lensed_mag_r`` (total lensed r magnitude, AB),
        ``src_g_minus_r``, ``src_r_minus_z`` (source colours).
    grid : PixelGrid
        Stamp geometry and sub-pixel sampling of the arcs.
    psf_kernels : sequence of numpy.ndarray
        Unit-sum kernels for g, r, z.

    Returns
    -------
    numpy.ndarray
        float64 ``(3, size, size)`` in nanomaggies per pixel, PSF-convolved, noise-free.
    """
    mass = [
        SIE(float(system["theta_e"]), float(system["mass_q"]), float(system["mass_phi"])),
        ExternalShear(float(system["gamma1"]), float(system["gamma2"])),
    ]
    source = Sersic(
        1.0,
        float(system["src_r_eff"]),
        float(system["src_n"]),
        float(system["src_q"]),
        float(system["src_phi"]),
        float(system["src_x"]),
        float(system["src_y"]),
    )
    lensed = band_fluxes(system["lensed_mag_r"], system["src_g_minus_r"], system["src_r_minus_z"])
    return render_arcs(grid, mass, source, lensed, psf_kernels)


def render_composite_arcs(
    system: Mapping[str, Any],
    components: Sequence[tuple[Any, np.ndarray]],
    grid: PixelGrid,
    psf_kernels: Sequence[np.ndarray],
) -> np.ndarray:
    """g, r, z arcs of a source made of several components, each with its own colours.

    Parameters
    ----------
    system : Mapping
        The mass (``theta_e``, ``mass_q``, ``mass_phi``, ``gamma1``, ``gamma2``) and
        ``lensed_mag_r``, the total lensed r magnitude (AB) the arcs are scaled to.
    components : sequence of (profile, fluxes)
        Source-plane profiles (``surface_brightness(x, y)`` in arcsec, unit flux) and
        their relative intrinsic g, r, z fluxes, shape ``(3,)``.
    grid : PixelGrid
        Stamp geometry and sub-pixel sampling.
    psf_kernels : sequence of numpy.ndarray
        Unit-sum kernels for g, r, z.

    Returns
    -------
    numpy.ndarray
        float64 ``(3, size, size)`` in nanomaggies per pixel, PSF-convolved, noise-free;
        the r band sums to the ``lensed_mag_r`` flux (of the part inside the stamp).
    """
    if not components:
        raise ValueError("'components' must hold at least one source component")
    mass = [
        SIE(float(system["theta_e"]), float(system["mass_q"]), float(system["mass_phi"])),
        ExternalShear(float(system["gamma1"]), float(system["gamma2"])),
    ]
    x, y = grid.coordinates()
    bx, by = ray_trace(x, y, mass)
    image = np.zeros((len(psf_kernels), grid.size, grid.size))
    for profile, fluxes in components:
        lensed = grid.bin(profile.surface_brightness(bx, by)) * grid.pixel_area
        image += np.asarray(fluxes, float)[:, None, None] * lensed[None]
    total_r = image[1].sum()
    if not total_r > 0:
        raise ValueError("the lensed source falls outside the stamp; move it or enlarge the stamp")
    target = band_fluxes(system["lensed_mag_r"], 0.0, 0.0)[1]
    image *= target / total_r
    return np.stack([convolve(image[b], k) for b, k in enumerate(psf_kernels)])
