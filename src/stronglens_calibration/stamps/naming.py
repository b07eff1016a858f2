"""File names of cutouts, derived from sky position."""

from __future__ import annotations


def cutout_stem(ra_deg: float, dec_deg: float) -> str:
    """Stem of a cutout's file name: ``cutout_<ra>_<dec>`` to 1e-5 deg (0.036 arcsec).

    Parameters
    ----------
    ra_deg, dec_deg : float
        ICRS position in degrees.

    Examples
    --------
    >>> cutout_stem(150.1, -2.25)
    'cutout_150.10000_-02.25000'
    >>> cutout_stem(5.0, 12.5)
    'cutout_005.00000_12.50000'
    """
    sign = "-" if dec_deg < 0 else ""
    return f"cutout_{ra_deg:09.5f}_{sign}{abs(dec_deg):08.5f}"
