"""DR10 sweep catalogues: photometry in project columns, quality cuts, hard confusers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.photometry import nanomaggies_to_mag

#: Sweep columns the project reads (Tractor names).
SWEEP_COLUMNS: tuple[str, ...] = (
    "RELEASE", "BRICKID", "BRICKNAME", "OBJID", "TYPE", "RA", "DEC",
    "FLUX_G", "FLUX_R", "FLUX_Z", "NOBS_G", "NOBS_R", "NOBS_Z", "MASKBITS",
    "SHAPE_R", "SHAPE_E1", "SHAPE_E2", "SERSIC", "PSFSIZE_R", "PSFDEPTH_R",
)  # fmt: skip

#: Hard-confuser categories, in the order an object is assigned to the first that fits.
HARD_CONFUSER_CATEGORIES: tuple[str, ...] = ("ring_like", "edge_on", "blue_clumpy", "large")

_SWEEP_NAME = re.compile(r"sweep-(\d{3})([pm])(\d{3})-(\d{3})([pm])(\d{3})")


def sweep_box(name: str) -> tuple[float, float, float, float] | None:
    """Sky box ``(ra_min, ra_max, dec_min, dec_max)`` in deg from a DR10 sweep file name.

    ``sweep-000m005-010p000`` covers 0 <= RA < 10, -5 <= Dec < 0. ``None`` when the name
    does not follow the convention (such a file must be read to know what it holds).
    """
    m = _SWEEP_NAME.search(name)
    if m is None:
        return None
    ra0, s0, d0, ra1, s1, d1 = m.groups()
    dec0 = float(d0) * (-1 if s0 == "m" else 1)
    dec1 = float(d1) * (-1 if s1 == "m" else 1)
    return float(ra0), float(ra1), dec0, dec1


def in_box(ra: np.ndarray, dec: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Whether positions (deg) lie in a sweep box (half-open intervals)."""
    ra0, ra1, dec0, dec1 = box
    return (ra >= ra0) & (ra < ra1) & (dec >= dec0) & (dec < dec1)


def dr10_uid(release: np.ndarray, brickid: np.ndarray, objid: np.ndarray) -> np.ndarray:
    """One int64 per (RELEASE, BRICKID, OBJID): ``release << 44 | brickid << 20 | objid``.

    Unique for DR10 (BRICKID < 2**24, OBJID < 2**20, RELEASE < 2**19).
    """
    r = np.asarray(release, dtype=np.int64)
    b = np.asarray(brickid, dtype=np.int64)
    o = np.asarray(objid, dtype=np.int64)
    if (b >= 2**24).any() or (o >= 2**20).any() or (b < 0).any() or (o < 0).any():
        raise ValueError("BRICKID or OBJID outside the DR10 range; cannot form object ids")
    return (r << 44) | (b << 20) | o


def dr10_object_id_of_uid(uid: np.ndarray) -> np.ndarray:
    """``dr10:<release>_<brickid>_<objid>`` strings from :func:`dr10_uid` values."""
    uid = np.asarray(uid, dtype=np.int64)
    return dr10_object_id(uid >> 44, (uid >> 20) & (2**24 - 1), uid & (2**20 - 1))


def dr10_object_id(release: np.ndarray, brickid: np.ndarray, objid: np.ndarray) -> np.ndarray:
    """Unique Legacy Surveys identifiers ``dr10:<release>_<brickid>_<objid>``."""
    return np.array(
        [f"dr10:{r}_{b}_{o}" for r, b, o in zip(release, brickid, objid, strict=True)],
        dtype=object,
    )


def photometry(sweep: pd.DataFrame) -> pd.DataFrame:
    """Sweep rows in the project's columns.

    Returns
    -------
    pandas.DataFrame
        ``type``, ``mag_g/r/z`` (AB; NaN for non-positive flux), ``nobs_g/r/z``,
        ``maskbits``, ``shape_r`` (arcsec), ``axis_ratio`` (from SHAPE_E1/E2), ``sersic``,
        ``psfsize_r`` (arcsec), ``psfdepth_r`` (1/nanomaggy^2), ``brickname`` (the brick
        the object is primary in, for cutouts from coadd bricks).
    """
    missing = [c for c in SWEEP_COLUMNS if c not in sweep.columns]
    if missing:
        raise KeyError(f"sweep table lacks column(s) {missing}")
    out = pd.DataFrame({"type": sweep["TYPE"].astype(str).str.strip().to_numpy()})
    for b in BANDS:
        out[f"mag_{b}"] = nanomaggies_to_mag(sweep[f"FLUX_{b.upper()}"].to_numpy(np.float64))
    for b in BANDS:
        out[f"nobs_{b}"] = sweep[f"NOBS_{b.upper()}"].to_numpy().astype(np.int16)
    out["maskbits"] = sweep["MASKBITS"].to_numpy().astype(np.int64)
    out["shape_r"] = sweep["SHAPE_R"].to_numpy(np.float32)
    e = np.hypot(sweep["SHAPE_E1"].to_numpy(np.float64), sweep["SHAPE_E2"].to_numpy(np.float64))
    out["axis_ratio"] = ((1 - e) / (1 + e)).astype(np.float32)
    out["sersic"] = sweep["SERSIC"].to_numpy(np.float32)
    out["psfsize_r"] = sweep["PSFSIZE_R"].to_numpy(np.float32)
    out["psfdepth_r"] = sweep["PSFDEPTH_R"].to_numpy(np.float32)
    out["brickname"] = sweep["BRICKNAME"].astype(str).str.strip().to_numpy()
    return out


@dataclass(frozen=True)
class Cuts:
    """Quality cuts applied to negatives and, where photometry is known, to positives.

    Attributes
    ----------
    types : tuple of str
        Tractor TYPEs kept.
    reject_maskbits : tuple of int
        MASKBITS bit numbers that reject an object.
    min_nobs : dict
        Minimum number of exposures per band.
    mag_z : tuple of float
        Allowed z-band magnitude range (AB).
    dec_deg : tuple of float
        Allowed declination range (deg).
    photsys : tuple of str
        Photometric systems kept (``S``: DECam; ``N``: DR9 BASS/MzLS north imaging).
    """

    types: tuple[str, ...]
    reject_maskbits: tuple[int, ...]
    min_nobs: dict[str, int]
    mag_z: tuple[float, float]
    dec_deg: tuple[float, float]
    photsys: tuple[str, ...] = ("S", "N")

    @property
    def mask(self) -> int:
        """MASKBITS value with every rejecting bit set."""
        return int(sum(1 << b for b in self.reject_maskbits))

    def failures(self, phot: pd.DataFrame, dec: np.ndarray) -> dict[str, np.ndarray]:
        """For each cut, which rows it rejects (bool arrays; a row may fail several)."""
        fails = {
            "type": ~phot["type"].isin(list(self.types)).to_numpy(),
            "maskbits": (phot["maskbits"].fillna(0).to_numpy().astype(np.int64) & self.mask) != 0,
        }
        for b, n in self.min_nobs.items():
            fails[f"nobs_{b}"] = phot[f"nobs_{b}"].to_numpy() < n
        mag_z = phot["mag_z"].to_numpy()
        fails["mag_z"] = ~((mag_z >= self.mag_z[0]) & (mag_z <= self.mag_z[1]))
        fails["dec"] = ~((dec >= self.dec_deg[0]) & (dec <= self.dec_deg[1]))
        if "photsys" in phot:
            fails["photsys"] = ~phot["photsys"].isin(list(self.photsys)).to_numpy()
        return fails


@dataclass(frozen=True)
class HardConfuserRules:
    """Tractor-parameter definitions of hard-confuser categories.

    Attributes
    ----------
    ring_max_sersic : float
        ``SER`` fits flatter than this (rings, wide low-index profiles) are ``ring_like``.
    edge_on_max_axis_ratio : float
        Axis ratios below this are ``edge_on``.
    blue_max_g_minus_r : float
        Colours bluer than this are ``blue_clumpy``.
    large_min_shape_r : float
        Half-light radii (arcsec) above this are ``large``.
    """

    ring_max_sersic: float
    edge_on_max_axis_ratio: float
    blue_max_g_minus_r: float
    large_min_shape_r: float

    def categorise(self, phot: pd.DataFrame) -> np.ndarray:
        """The first hard-confuser category of each row, or ``""``."""
        tests = {
            "ring_like": (phot["type"].to_numpy() == "SER")
            & (phot["sersic"].to_numpy() < self.ring_max_sersic),
            "edge_on": phot["axis_ratio"].to_numpy() < self.edge_on_max_axis_ratio,
            "blue_clumpy": (phot["mag_g"] - phot["mag_r"]).to_numpy() < self.blue_max_g_minus_r,
            "large": phot["shape_r"].to_numpy() > self.large_min_shape_r,
        }
        out = np.full(len(phot), "", dtype=object)
        for name in reversed(HARD_CONFUSER_CATEGORIES):
            out[np.nan_to_num(tests[name], nan=False).astype(bool)] = name
        out[phot["type"].to_numpy() == "PSF"] = ""
        return out


def strata(phot: pd.DataFrame, nobs_z_edges: Sequence[int], by_photsys: bool = False) -> np.ndarray:
    """Sampling stratum ``"<nobs_z bin>|<TYPE>"`` of each row (``"...|<PHOTSYS>"`` when
    ``by_photsys``: negatives then follow the positives' north/south mix)."""
    edges = np.asarray(nobs_z_edges)
    b = np.clip(
        np.searchsorted(edges, phot["nobs_z"].to_numpy(), side="right") - 1, 0, edges.size - 2
    )
    t_codes, t_names = pd.factorize(phot["type"].astype(str))
    combined = b * len(t_names) + t_codes
    codes, uniques = pd.factorize(combined)
    labels = np.array(
        [
            f"{int(edges[u // len(t_names)])}-{int(edges[u // len(t_names) + 1])}|"
            f"{t_names[u % len(t_names)]}"
            for u in uniques
        ],
        dtype=object,
    )
    out = labels[codes]
    if by_photsys:
        out = np.array([f"{s}|{p}" for s, p in zip(out, phot["photsys"], strict=True)], object)
    return out
