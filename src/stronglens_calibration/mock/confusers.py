"""Non-lens galaxies that look like lenses: spirals, rings, edge-on discs, clumps, mergers.

Each confuser keeps a central galaxy drawn from the same distribution as the lenses' and
adds the structure that fools lens finders outside the core (arms, rings, tails), so the
core itself carries no class information.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stronglens_calibration.lensing.profiles import Gaussian, Sersic, elliptical_radius
from stronglens_calibration.photometry import mag_to_nanomaggies


@dataclass(frozen=True)
class ShapedComponent:
    """A light component with its own colour: unit-flux surface brightness times fluxes.

    ``fluxes`` is the total flux per band in nanomaggies, band order g, r, z.
    """

    shape: object  # anything with surface_brightness(x, y) of unit total flux
    fluxes: np.ndarray


@dataclass(frozen=True)
class SpiralDisc:
    """Exponential disc with a two-armed logarithmic spiral modulation (unit flux).

    ``r_eff`` in arcsec; ``pitch`` in radians; ``amplitude`` in [0, 1).
    """

    r_eff: float
    q: float
    phi: float
    pitch: float
    amplitude: float
    arm_phase: float

    def surface_brightness(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        disc = Sersic(1.0, self.r_eff, 1.0, self.q, self.phi).surface_brightness(x, y)
        r = np.maximum(elliptical_radius(x, y, self.q, self.phi), 1e-3)
        theta = np.arctan2(y, x)
        arms = 1.0 + self.amplitude * np.cos(
            2.0 * (theta - np.log(r) / np.tan(self.pitch) - self.arm_phase)
        )
        return disc * arms


@dataclass(frozen=True)
class RingArc:
    """A Gaussian ring of radius ``radius`` and width ``width`` (arcsec), optionally only
    an arc of it (angular extent ``extent`` radians around ``angle``); unit flux."""

    radius: float
    width: float
    q: float = 1.0
    phi: float = 0.0
    angle: float = 0.0
    extent: float = np.inf
    x0: float = 0.0
    y0: float = 0.0

    def surface_brightness(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = elliptical_radius(x, y, self.q, self.phi, self.x0, self.y0)
        profile = np.exp(-0.5 * ((r - self.radius) / self.width) ** 2)
        if np.isfinite(self.extent):
            dtheta = np.angle(np.exp(1j * (np.arctan2(y - self.y0, x - self.x0) - self.angle)))
            profile = profile * np.exp(-0.5 * (dtheta / self.extent) ** 2)
            norm = (2 * np.pi) ** 1.5 * self.radius * self.width * self.extent
        else:
            norm = (2 * np.pi) ** 1.5 * self.radius * self.width
        return profile / norm


def _colour(
    rng: np.random.Generator, mag_r: float, gr: tuple[float, float], rz: tuple[float, float]
) -> np.ndarray:
    g_r, r_z = rng.uniform(*gr), rng.uniform(*rz)
    return mag_to_nanomaggies(np.array([mag_r + g_r, mag_r, mag_r - r_z]))


def confuser_components(
    kind: str, central_mag_r: float, central_q: float, central_phi: float, rng: np.random.Generator
) -> list[ShapedComponent]:
    """The extra light components of one confuser.

    Parameters
    ----------
    kind : str
        One of ``spiral``, ``ring``, ``edge_on``, ``blue_clumpy``, ``merger``.
    central_mag_r : float
        r-band magnitude of the central galaxy; the structure's brightness scales with it.
    central_q, central_phi : float
        Axis ratio and position angle (radians) of the central galaxy.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    list of ShapedComponent
        Components with unit-flux shapes and per-band (g, r, z) fluxes in nanomaggies.
    """

    def mag(lo: float, hi: float) -> float:
        return central_mag_r + rng.uniform(lo, hi)

    if kind == "spiral":
        shape = SpiralDisc(
            r_eff=rng.uniform(1.5, 3.0),
            q=max(central_q, 0.5),
            phi=central_phi,
            pitch=np.deg2rad(rng.uniform(12, 25)),
            amplitude=rng.uniform(0.5, 0.9),
            arm_phase=rng.uniform(0, np.pi),
        )
        return [ShapedComponent(shape, _colour(rng, mag(-0.3, 0.7), (0.5, 0.9), (0.3, 0.6)))]
    if kind == "ring":
        shape = RingArc(
            radius=rng.uniform(1.0, 3.5),
            width=rng.uniform(0.15, 0.4),
            q=rng.uniform(0.7, 1.0),
            phi=central_phi,
        )
        return [ShapedComponent(shape, _colour(rng, mag(0.8, 2.0), (0.3, 0.8), (0.1, 0.5)))]
    if kind == "edge_on":
        shape = Sersic(1.0, rng.uniform(1.5, 3.0), 1.0, rng.uniform(0.08, 0.2), central_phi)
        return [ShapedComponent(shape, _colour(rng, mag(-0.5, 0.5), (1.0, 1.5), (0.5, 0.9)))]
    if kind == "blue_clumpy":
        comps = []
        for _ in range(rng.integers(3, 8)):
            radius, angle = rng.uniform(0.8, 2.5), rng.uniform(0, 2 * np.pi)
            clump = Gaussian(
                1.0, rng.uniform(0.1, 0.25), x0=radius * np.cos(angle), y0=radius * np.sin(angle)
            )
            comps.append(
                ShapedComponent(clump, _colour(rng, mag(1.5, 3.0), (0.0, 0.4), (-0.1, 0.3)))
            )
        disc = Sersic(1.0, rng.uniform(1.0, 2.0), 1.0, rng.uniform(0.5, 1.0), rng.uniform(0, np.pi))
        comps.append(ShapedComponent(disc, _colour(rng, mag(0.5, 1.5), (0.3, 0.6), (0.1, 0.4))))
        return comps
    if kind == "merger":
        sep, angle = rng.uniform(1.5, 3.5), rng.uniform(0, 2 * np.pi)
        x0, y0 = sep * np.cos(angle), sep * np.sin(angle)
        companion = Sersic(
            1.0,
            rng.uniform(0.4, 1.2),
            rng.uniform(1.0, 4.0),
            rng.uniform(0.5, 1.0),
            rng.uniform(0, np.pi),
            x0,
            y0,
        )
        tail = RingArc(
            radius=rng.uniform(2.0, 4.0),
            width=rng.uniform(0.2, 0.5),
            angle=angle + np.pi * rng.uniform(0.3, 0.7),
            extent=rng.uniform(0.4, 0.9),
            x0=x0 / 2,
            y0=y0 / 2,
        )
        return [
            ShapedComponent(companion, _colour(rng, mag(0.0, 1.5), (1.2, 1.8), (0.7, 1.0))),
            ShapedComponent(tail, _colour(rng, mag(1.5, 2.5), (0.6, 1.2), (0.3, 0.7))),
        ]
    raise ValueError(f"unknown confuser 'kind' {kind!r}")
