"""An approximation of the DR10 footprint for drawing mock positions."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord


def galactic_latitude(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Galactic latitude in degrees of ICRS positions in degrees."""
    coords = SkyCoord(ra=np.asarray(ra_deg) * u.deg, dec=np.asarray(dec_deg) * u.deg, frame="icrs")
    return coords.galactic.b.deg


def in_footprint(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    dec_min_deg: float,
    dec_max_deg: float,
    min_abs_galactic_latitude_deg: float,
) -> np.ndarray:
    """Whether positions lie in a declination band away from the Galactic plane.

    DR10 (with DR9 north) covers roughly -70 < Dec < +84 deg outside the Galactic plane;
    this is the approximation the mock survey uses, not a mask for real data.

    Returns
    -------
    numpy.ndarray
        bool, same shape as ``ra_deg``.
    """
    dec = np.asarray(dec_deg)
    b = galactic_latitude(ra_deg, dec_deg)
    return (
        (dec >= dec_min_deg) & (dec <= dec_max_deg) & (np.abs(b) >= min_abs_galactic_latitude_deg)
    )
