"""Deflectors: singular isothermal ellipsoid and external shear, and ray tracing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: Below this ``1 - q`` the SIE is evaluated with the spherical (SIS) formula.
_ROUND_TOLERANCE = 1e-6


class Deflector(Protocol):
    """Anything that maps image-plane offsets (arcsec) to deflection angles (arcsec)."""

    def deflection(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class SIE:
    """Singular isothermal ellipsoid.

    Convergence ``kappa = b / (2 sqrt(q^2 x'^2 + y'^2))`` with ``b = theta_e sqrt(q)``,
    so the region with ``kappa > 1/2`` has the area of a circle of radius ``theta_e``
    (the area-equivalent Einstein radius; for ``q = 1`` the SIS with ring radius
    ``theta_e``). Deflection from Kormann, Schneider & Bartelmann (1994) in the form
    used by Keeton (2001).

    Parameters
    ----------
    theta_e : float
        Einstein radius in arcsec (> 0).
    q : float
        Axis ratio of the mass in (0, 1].
    phi : float
        Position angle of the major axis, radians counter-clockwise from +x.
    x0, y0 : float
        Centre in arcsec.
    """

    theta_e: float
    q: float = 1.0
    phi: float = 0.0
    x0: float = 0.0
    y0: float = 0.0

    def __post_init__(self) -> None:
        if not self.theta_e > 0:
            raise ValueError(f"'theta_e' must be positive, got {self.theta_e}")
        if not 0 < self.q <= 1:
            raise ValueError(f"axis ratio 'q' must lie in (0, 1], got {self.q}")

    def deflection(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deflection angle in arcsec at image-plane offsets ``x, y`` (arcsec)."""
        dx, dy = np.asarray(x) - self.x0, np.asarray(y) - self.y0
        c, s = np.cos(self.phi), np.sin(self.phi)
        xp = c * dx + s * dy
        yp = -s * dx + c * dy
        if 1.0 - self.q < _ROUND_TOLERANCE:
            r = np.hypot(xp, yp)
            scale = np.divide(self.theta_e, r, out=np.zeros_like(r), where=r > 0)
            axp, ayp = scale * xp, scale * yp
        else:
            b = self.theta_e * np.sqrt(self.q)
            e = np.sqrt(1.0 - self.q**2)
            psi = np.sqrt(self.q**2 * xp * xp + yp * yp)
            safe = np.where(psi > 0, psi, 1.0)
            axp = np.where(psi > 0, b / e * np.arctan(e * xp / safe), 0.0)
            ayp = np.where(psi > 0, b / e * np.arctanh(e * yp / safe), 0.0)
        return c * axp - s * ayp, s * axp + c * ayp


@dataclass(frozen=True)
class ExternalShear:
    """External shear ``(gamma1, gamma2)`` about ``(x0, y0)``.

    Deflection ``(g1 x + g2 y, g2 x - g1 y)``; dimensionless components.
    """

    gamma1: float
    gamma2: float
    x0: float = 0.0
    y0: float = 0.0

    def deflection(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deflection angle in arcsec at image-plane offsets ``x, y`` (arcsec)."""
        dx, dy = np.asarray(x) - self.x0, np.asarray(y) - self.y0
        return self.gamma1 * dx + self.gamma2 * dy, self.gamma2 * dx - self.gamma1 * dy


def ray_trace(
    x: np.ndarray, y: np.ndarray, deflectors: Sequence[Deflector]
) -> tuple[np.ndarray, np.ndarray]:
    """Map image-plane positions to the source plane with the lens equation.

    Parameters
    ----------
    x, y : numpy.ndarray
        Image-plane offsets in arcsec.
    deflectors : sequence of Deflector
        Thin-lens components in the same plane; their deflections add.

    Returns
    -------
    beta_x, beta_y : numpy.ndarray
        Source-plane offsets ``theta - alpha(theta)`` in arcsec, same shape as ``x``.
    """
    bx, by = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    for d in deflectors:
        ax, ay = d.deflection(x, y)
        bx -= ax
        by -= ay
    return bx, by
