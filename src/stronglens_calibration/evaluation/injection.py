"""Injection-recovery: lensed arcs from ``lensing/`` added to real non-lens cutouts.

The arcs are the ones the mock survey renders for its positives (ray-traced Sersic
sources behind an SIE plus external shear, Moffat PSF per band, the source's own shot
noise), so the selection function is measured with the arcs the project knows how to
make, and the realism checks say how far those arcs are from real lenses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, Strict, field_validator

from stronglens_calibration import BANDS
from stronglens_calibration.lensing.arcs import render_lens_system
from stronglens_calibration.lensing.grid import PixelGrid
from stronglens_calibration.lensing.noise import add_noise
from stronglens_calibration.lensing.psf import moffat_kernel
from stronglens_calibration.parameter_schema import (
    Float,
    Fraction,
    PositiveFloat,
    PositiveInt,
    Range,
    Section,
    bounded_range,
)
from stronglens_calibration.stamps.geometry import centre_slice


@dataclass(frozen=True)
class InjectionConfig:
    """Validated ``evaluate.injection`` parameters (angles in arcsec, AB magnitudes).

    Attributes
    ----------
    theta_e_edges : tuple of float
        Einstein-radius bin edges.
    mag_edges : tuple of float
        Lensed (observed, total) r-band magnitude bin edges.
    psf_bins : int
        Bins of the host's r-band PSF FWHM (equal numbers of hosts); 1 for none.
    per_cell : int
        Injections per (theta_E, magnitude, PSF) cell.
    render_size : int
        Odd side in pixels of the region the arcs are rendered in (pasted at the centre).
    oversample : int
        Sub-samples per pixel and axis for the thin arcs.
    source_n, source_r_eff, source_q, g_minus_r, r_minus_z : tuple of float
        Uniform ranges of the source's Sersic index, half-light radius, axis ratio and
        colours.
    source_offset_max : float
        Largest source-plane offset as a fraction of theta_E.
    mass_q : tuple of float
        Uniform range of the SIE axis ratio.
    shear_max : float
        Largest external-shear amplitude.
    moffat_beta, g_over_r, z_over_r : float
        PSF shape and the g and z FWHM relative to r.
    counts_per_nanomaggy : numpy.ndarray
        Per band (g, r, z), for the arcs' shot noise.
    pixel_scale : float
        Arcsec per pixel of the host stamps.
    """

    theta_e_edges: tuple[float, ...]
    mag_edges: tuple[float, ...]
    psf_bins: int
    per_cell: int
    render_size: int
    oversample: int
    source_n: tuple[float, float]
    source_r_eff: tuple[float, float]
    source_q: tuple[float, float]
    g_minus_r: tuple[float, float]
    r_minus_z: tuple[float, float]
    source_offset_max: float
    mass_q: tuple[float, float]
    shear_max: float
    moffat_beta: float
    g_over_r: float
    z_over_r: float
    counts_per_nanomaggy: np.ndarray
    pixel_scale: float

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], path: str = "evaluate.injection"
    ) -> InjectionConfig:
        """Validate (:class:`InjectionParameters`); errors name the parameter."""
        return InjectionParameters.parse(params, path).config()


def _edges(value: tuple[float, ...]) -> tuple[float, ...]:
    if len(value) < 2 or np.any(np.diff(value) <= 0):
        raise ValueError(f"must be an increasing list of >= 2 edges, got {list(value)}")
    return value


#: Increasing bin edges.
Edges = Annotated[tuple[Float, ...], AfterValidator(_edges)]


class Source(Section):
    """Uniform ranges of the parametric source: Sersic index, half-light radius
    (arcsec), axis ratio, colours; the largest source-plane offset (fraction of
    theta_E)."""

    sersic_n: bounded_range(low=0.2)
    r_eff_arcsec: bounded_range(low=0.01)
    axis_ratio: bounded_range(low=0.05, high=1.0)
    g_minus_r: Range
    r_minus_z: Range
    offset_max: Fraction


class Mass(Section):
    """The SIE's axis-ratio range and the largest external shear."""

    axis_ratio: bounded_range(low=0.05, high=1.0)
    shear_max: Annotated[float, Strict(), Field(ge=0.0, le=0.5)]


class Psf(Section):
    """Moffat beta and the g and z FWHM relative to r (the host's ``psfsize_r``)."""

    moffat_beta: Annotated[float, Strict(), Field(ge=1.01)]
    g_over_r: PositiveFloat
    z_over_r: PositiveFloat


class PerBand(Section):
    """A positive number per band."""

    g: PositiveFloat
    r: PositiveFloat
    z: PositiveFloat


class InjectionParameters(Section):
    """``evaluate.injection``: the injection grid, the parametric arc model and the
    rendering (angles in arcsec, AB magnitudes, pixels)."""

    theta_e_bins_arcsec: Edges
    lensed_mag_r_bins: Edges
    psf_bins: PositiveInt
    per_cell: PositiveInt
    render_size_px: Annotated[int, Strict(), Field(ge=9)]
    pixel_scale: PositiveFloat
    oversample: PositiveInt
    source: Source
    mass: Mass
    psf: Psf
    counts_per_nanomaggy: PerBand

    @field_validator("theta_e_bins_arcsec")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if value[0] <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("render_size_px")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"must be odd, got {value}")
        return value

    def config(self) -> InjectionConfig:
        """What the injection library takes."""
        s, m, p = self.source, self.mass, self.psf

        def pair(v: tuple[float, float]) -> tuple[float, float]:
            return float(v[0]), float(v[1])

        return InjectionConfig(
            theta_e_edges=tuple(float(v) for v in self.theta_e_bins_arcsec),
            mag_edges=tuple(float(v) for v in self.lensed_mag_r_bins),
            psf_bins=self.psf_bins,
            per_cell=self.per_cell,
            render_size=self.render_size_px,
            oversample=self.oversample,
            source_n=pair(s.sersic_n),
            source_r_eff=pair(s.r_eff_arcsec),
            source_q=pair(s.axis_ratio),
            g_minus_r=pair(s.g_minus_r),
            r_minus_z=pair(s.r_minus_z),
            source_offset_max=float(s.offset_max),
            mass_q=pair(m.axis_ratio),
            shear_max=float(m.shear_max),
            moffat_beta=float(p.moffat_beta),
            g_over_r=float(p.g_over_r),
            z_over_r=float(p.z_over_r),
            counts_per_nanomaggy=np.array(
                [getattr(self.counts_per_nanomaggy, b) for b in BANDS], dtype=np.float64
            ),
            pixel_scale=float(self.pixel_scale),
        )


def psf_bin_edges(fwhm: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior edges putting equal numbers of hosts in each PSF bin (finite FWHM only)."""
    finite = np.asarray(fwhm, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if n_bins == 1 or finite.size == 0:
        return np.zeros(0)
    return np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))


def plan_injections(hosts: pd.DataFrame, cfg: InjectionConfig, seed: int) -> pd.DataFrame:
    """One row per injection: host, cell and every arc parameter, drawn reproducibly.

    Parameters
    ----------
    hosts : pandas.DataFrame
        Candidate hosts (test-split negatives with usable cutouts): ``object_id``,
        ``shard``, ``offset``, ``psfsize_r`` (arcsec; NaN gets the median).
    cfg : InjectionConfig
        Grid and arc parameter ranges.
    seed : int
        Seed of every draw.

    Returns
    -------
    pandas.DataFrame
        Columns ``injection_id``, ``host_id``, ``shard``, ``offset``, ``theta_e_bin``,
        ``mag_bin``, ``psf_bin``, ``theta_e`` (arcsec), ``lensed_mag_r``,
        ``fwhm_r`` (arcsec), source and mass parameters.
    """
    if hosts.empty:
        raise ValueError("no host for injections: the test split has no usable negative")
    rng = np.random.default_rng([seed, 7])
    fwhm = hosts["psfsize_r"].to_numpy(np.float64)
    fill = np.nanmedian(fwhm) if np.isfinite(fwhm).any() else 1.3
    fwhm = np.where(np.isfinite(fwhm) & (fwhm > 0), fwhm, fill)
    edges = psf_bin_edges(fwhm, cfg.psf_bins)
    host_bin = np.searchsorted(edges, fwhm, side="right")
    rows = []
    te, me = cfg.theta_e_edges, cfg.mag_edges
    for k in range(len(edges) + 1):
        pool = np.flatnonzero(host_bin == k)
        if pool.size == 0:
            continue
        for i in range(len(te) - 1):
            for j in range(len(me) - 1):
                n = cfg.per_cell
                h = rng.choice(pool, n, replace=pool.size < n)
                theta_e = rng.uniform(te[i], te[i + 1], n)
                offset = cfg.source_offset_max * theta_e * np.sqrt(rng.uniform(0, 1, n))
                angle = rng.uniform(0, 2 * np.pi, n)
                shear = cfg.shear_max * np.sqrt(rng.uniform(0, 1, n))
                shear_angle = rng.uniform(0, np.pi, n)
                rows.append(
                    pd.DataFrame(
                        {
                            "host_id": hosts["object_id"].to_numpy()[h],
                            "shard": hosts["shard"].to_numpy()[h],
                            "offset": hosts["offset"].to_numpy()[h],
                            "theta_e_bin": i,
                            "mag_bin": j,
                            "psf_bin": k,
                            "theta_e": theta_e,
                            "lensed_mag_r": rng.uniform(me[j], me[j + 1], n),
                            "fwhm_r": fwhm[h],
                            "mass_q": rng.uniform(*cfg.mass_q, n),
                            "mass_phi": rng.uniform(0, np.pi, n),
                            "gamma1": shear * np.cos(2 * shear_angle),
                            "gamma2": shear * np.sin(2 * shear_angle),
                            "src_x": offset * np.cos(angle),
                            "src_y": offset * np.sin(angle),
                            "src_n": rng.uniform(*cfg.source_n, n),
                            "src_r_eff": np.exp(rng.uniform(*np.log(cfg.source_r_eff), n)),
                            "src_q": rng.uniform(*cfg.source_q, n),
                            "src_phi": rng.uniform(0, np.pi, n),
                            "src_g_minus_r": rng.uniform(*cfg.g_minus_r, n),
                            "src_r_minus_z": rng.uniform(*cfg.r_minus_z, n),
                        }
                    )
                )
    plan = pd.concat(rows, ignore_index=True)
    plan.insert(0, "injection_id", np.arange(len(plan), dtype=np.int64))
    return plan


def render_injection(
    row: Mapping[str, Any], host: np.ndarray, cfg: InjectionConfig, seed: int
) -> np.ndarray:
    """A host cutout with the arcs of one plan row added (with their shot noise).

    Parameters
    ----------
    row : Mapping
        One row of :func:`plan_injections`.
    host : numpy.ndarray
        float32 ``(3, H, W)`` g, r, z cutout in nanomaggies per pixel.
    cfg : InjectionConfig
        Rendering parameters.
    seed : int
        With ``injection_id``, seeds the shot noise.

    Returns
    -------
    numpy.ndarray
        float32 ``(3, H, W)``: the host plus the arcs, centred on the host's centre pixel.
    """
    _, h, w = host.shape
    size = min(cfg.render_size, h - (1 - h % 2))
    grid = PixelGrid(int(size), cfg.pixel_scale, cfg.oversample)
    fwhm_r = float(row["fwhm_r"])
    kernels = [
        moffat_kernel(fwhm_r * f, cfg.pixel_scale, cfg.moffat_beta)
        for f in (cfg.g_over_r, 1.0, cfg.z_over_r)
    ]
    arcs = render_lens_system(row, grid, kernels)
    rng = np.random.default_rng([seed, int(row["injection_id"]), 11])
    arcs = add_noise(arcs, np.zeros(len(BANDS)), cfg.counts_per_nanomaggy, rng)
    out = np.array(host, dtype=np.float32, copy=True)
    out[:, centre_slice(h, size), centre_slice(w, size)] += arcs
    return out
