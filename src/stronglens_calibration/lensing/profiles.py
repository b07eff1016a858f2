"""Light profiles: elliptical Sersic and Gaussian components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gamma, gammainc, gammaincinv


def sersic_b(n: float | np.ndarray) -> np.ndarray:
    """Exact Sersic ``b_n``: half the total light lies within the effective radius.

    Solves ``P(2n, b_n) = 1/2`` with the regularised incomplete gamma function.
    """
    n = np.asarray(n, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError(f"Sersic index 'n' must be positive, got {n}")
    return gammaincinv(2.0 * n, 0.5)


def elliptical_radius(
    x: np.ndarray, y: np.ndarray, q: float, phi: float, x0: float = 0.0, y0: float = 0.0
) -> np.ndarray:
    """Area-preserving elliptical radius ``sqrt(q x'^2 + y'^2 / q)``.

    Parameters
    ----------
    x, y : numpy.ndarray
        Sky offsets in arcsec.
    q : float
        Axis ratio b/a in (0, 1].
    phi : float
        Position angle of the major axis, radians counter-clockwise from +x.
    x0, y0 : float
        Centre in arcsec.

    Returns
    -------
    numpy.ndarray
        Radius in arcsec; the isophote at radius ``R`` encloses area ``pi R^2``.
    """
    if not 0 < q <= 1:
        raise ValueError(f"axis ratio 'q' must lie in (0, 1], got {q}")
    dx, dy = x - x0, y - y0
    c, s = np.cos(phi), np.sin(phi)
    xp = c * dx + s * dy
    yp = -s * dx + c * dy
    return np.sqrt(q * xp * xp + yp * yp / q)


@dataclass(frozen=True)
class Sersic:
    """Elliptical Sersic profile ``I(R) = I_e exp(-b_n ((R / r_eff)^(1/n) - 1))``.

    Parameters
    ----------
    flux : float
        Total flux (to infinity) in nanomaggies.
    r_eff : float
        Effective (half-light) radius in arcsec, circularised.
    n : float
        Sersic index.
    q : float
        Axis ratio in (0, 1].
    phi : float
        Position angle, radians counter-clockwise from +x.
    x0, y0 : float
        Centre in arcsec from the stamp centre.
    """

    flux: float
    r_eff: float
    n: float
    q: float = 1.0
    phi: float = 0.0
    x0: float = 0.0
    y0: float = 0.0

    def __post_init__(self) -> None:
        if not self.r_eff > 0:
            raise ValueError(f"'r_eff' must be positive, got {self.r_eff}")
        if not self.n > 0:
            raise ValueError(f"Sersic index 'n' must be positive, got {self.n}")
        if not 0 < self.q <= 1:
            raise ValueError(f"axis ratio 'q' must lie in (0, 1], got {self.q}")

    @property
    def intensity_at_r_eff(self) -> float:
        """``I_e`` in nanomaggies per arcsec^2."""
        b = float(sersic_b(self.n))
        norm = (
            2.0 * np.pi * self.n * self.r_eff**2 * np.exp(b) * gamma(2 * self.n) / b ** (2 * self.n)
        )
        return self.flux / norm

    def surface_brightness(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Surface brightness in nanomaggies per arcsec^2 at offsets ``x, y`` (arcsec)."""
        r = elliptical_radius(x, y, self.q, self.phi, self.x0, self.y0)
        b = float(sersic_b(self.n))
        return self.intensity_at_r_eff * np.exp(-b * (np.power(r / self.r_eff, 1.0 / self.n) - 1))

    def flux_within(self, radius: float) -> float:
        """Flux (nanomaggies) inside the ellipse of elliptical radius ``radius`` (arcsec)."""
        b = float(sersic_b(self.n))
        return float(self.flux * gammainc(2 * self.n, b * (radius / self.r_eff) ** (1 / self.n)))

    def sampled_surface_brightness(
        self, x: np.ndarray, y: np.ndarray, sample_area: float
    ) -> np.ndarray:
        """Surface brightness for point samples of area ``sample_area`` (arcsec^2): the
        profile, capped at its mean within the central ellipse of that area.

        A Sersic cusp is far narrower than a sub-pixel at n >= 4 (the central intensity
        is ``e^b_n`` times ``I_e``, 10^5 at n = 6): a sample on the centre would stand for
        a whole sub-pixel at that intensity and put more than the galaxy's total flux in
        one pixel. The cap gives that sample the sub-pixel's true share of the light.
        """
        if not sample_area > 0:
            raise ValueError(f"'sample_area' must be positive, got {sample_area}")
        rho = np.sqrt(sample_area / np.pi)
        cap = self.flux_within(rho) / sample_area
        return np.minimum(self.surface_brightness(x, y), cap)


@dataclass(frozen=True)
class Gaussian:
    """Elliptical Gaussian component (clumps, rings' cross-section, stars before the PSF).

    Parameters
    ----------
    flux : float
        Total flux in nanomaggies.
    sigma : float
        Circularised standard deviation in arcsec.
    q, phi, x0, y0 : float
        Axis ratio, position angle (radians from +x) and centre (arcsec).
    """

    flux: float
    sigma: float
    q: float = 1.0
    phi: float = 0.0
    x0: float = 0.0
    y0: float = 0.0

    def __post_init__(self) -> None:
        if not self.sigma > 0:
            raise ValueError(f"'sigma' must be positive, got {self.sigma}")

    def surface_brightness(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Surface brightness in nanomaggies per arcsec^2 at offsets ``x, y`` (arcsec)."""
        return self._at(x, y, self.sigma)

    def _at(self, x: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
        r = elliptical_radius(x, y, self.q, self.phi, self.x0, self.y0)
        return self.flux / (2 * np.pi * sigma**2) * np.exp(-0.5 * (r / sigma) ** 2)

    def sampled_surface_brightness(
        self, x: np.ndarray, y: np.ndarray, sample_area: float
    ) -> np.ndarray:
        """Surface brightness for point samples of area ``sample_area`` (arcsec^2): the
        Gaussian convolved with the sample's square (variance ``side^2 / 12`` added), so
        that a Gaussian narrower than a sample (a star before the PSF) keeps its flux
        wherever it falls between samples."""
        if not sample_area > 0:
            raise ValueError(f"'sample_area' must be positive, got {sample_area}")
        return self._at(x, y, float(np.sqrt(self.sigma**2 + sample_area / 12.0)))
