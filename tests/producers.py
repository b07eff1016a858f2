"""Files written as the data producers write them, for tests of the real-input readers.

- Legacy Surveys cutout service (``fits-cutout``): a float32 ``(B, H, W)`` primary HDU
  (2-D for one band), header ``SURVEY``, ``VERSION``, ``IMAGETYP``, ``BANDS``,
  ``BAND0..n``, a TAN WCS with ``CRPIX = (W + 1) / 2`` and ``CD = +-pixscale / 3600``,
  ``IMAGEW``/``IMAGEH``; ``&invvar`` adds an ``INVVAR`` HDU, ``&subimage`` gives an empty
  primary and one HDU per band; browsers save it as ``cutout_%.4f_%.4f.fits``.
- Sweep catalogues with the full DR10 and DR9 column lists and dtypes
  (``tests/data/*_sweep_columns.txt``), a DR8-like schema, or lower-case names.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"

_DTYPES = {
    "int16": ">i2",
    "int32": ">i4",
    "int64": ">i8",
    "uint8": "u1",
    "float32": ">f4",
    "float64": ">f8",
    "boolean": "?",
}


def sweep_columns(release: str) -> list[tuple[str, str]]:
    """``(name, dtype)`` of a sweep schema: ``dr10``, ``dr9`` or ``dr8`` (DR9 with the DR8
    shape columns: ``SHAPEDEV_*``/``SHAPEEXP_*`` instead of ``SHAPE_*``, no ``SERSIC``,
    no ``PSFSIZE_*``)."""
    name = "dr9" if release == "dr8" else release
    rows = []
    for line in (DATA / f"{name}_sweep_columns.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        col, dtype = line.split()
        rows.append((col, dtype))
    if release == "dr8":
        dropped = {"SHAPE_R", "SHAPE_E1", "SHAPE_E2", "SERSIC", "SERSIC_IVAR"}
        rows = [(c, d) for c, d in rows if c not in dropped and not c.startswith("PSFSIZE_")]
        rows += [(f"SHAPE{k}_{p}", "float32") for k in ("DEV", "EXP") for p in ("R", "E1", "E2")]
        rows = [(c, "char[4]" if c == "TYPE" else d) for c, d in rows]
    return rows


def _numpy_dtype(dtype: str):
    if dtype.startswith("char["):
        return f"S{int(dtype[5:-1])}"
    if "[" in dtype:
        base, count = dtype[:-1].split("[")
        return (_DTYPES[base], (int(count),))
    return _DTYPES[dtype]


def write_sweep(
    path: Path, rows: pd.DataFrame, release: str = "dr10", lower_case: bool = False
) -> Path:
    """A sweep FITS file with every column of the schema; ``rows`` gives the values of
    the columns it has (Tractor names), the others are zero."""
    from astropy.io import fits

    columns = sweep_columns(release)
    dtype = [((c.lower() if lower_case else c), _numpy_dtype(d)) for c, d in columns]
    data = np.zeros(len(rows), dtype=dtype)
    for (col, _), (out, _) in zip(columns, dtype, strict=True):
        if col in rows:
            values = rows[col].to_numpy()
            data[out] = values.astype("S") if data[out].dtype.kind == "S" else values
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(data)]).writeto(path, overwrite=True)
    return path


def sweep_rows(
    ra: np.ndarray,
    dec: np.ndarray,
    *,
    release: int = 10000,
    brickid: int = 331000,
    mag_z: float = 19.0,
    maskbits: int = 0,
    object_type: str = "DEV",
    first_objid: int = 0,
) -> pd.DataFrame:
    """Sweep rows of LRG-like galaxies that pass the project's default cuts."""
    n = len(ra)
    flux_z = 10 ** ((22.5 - mag_z) / 2.5)
    return pd.DataFrame(
        {
            "RELEASE": np.full(n, release, np.int16),
            "BRICKID": np.full(n, brickid, np.int32),
            "BRICKNAME": ["1500p025"] * n,
            "OBJID": np.arange(first_objid, first_objid + n, dtype=np.int32),
            "TYPE": [object_type] * n,
            "RA": np.asarray(ra, np.float64),
            "DEC": np.asarray(dec, np.float64),
            "FLUX_G": np.full(n, flux_z / 10 ** (-2.9 / 2.5), np.float32),
            "FLUX_R": np.full(n, flux_z / 10 ** (-1.3 / 2.5), np.float32),
            "FLUX_Z": np.full(n, flux_z, np.float32),
            "NOBS_G": np.full(n, 4, np.int16),
            "NOBS_R": np.full(n, 4, np.int16),
            "NOBS_Z": np.full(n, 4, np.int16),
            "MASKBITS": np.full(n, maskbits, np.int32),
            "SHAPE_R": np.full(n, 1.0, np.float32),
            "SHAPE_E1": np.zeros(n, np.float32),
            "SHAPE_E2": np.zeros(n, np.float32),
            "SERSIC": np.full(n, 4.0, np.float32),
            "PSFSIZE_R": np.full(n, 1.2, np.float32),
            "PSFDEPTH_R": np.full(n, 2000.0, np.float32),
        }
    )


def service_fits(
    planes: np.ndarray,
    ra: float,
    dec: float,
    bands: str = "grz",
    pixscale: float = 0.262,
    variant: str = "",
    bands_card: bool = True,
) -> bytes:
    """A ``fits-cutout`` answer: ``planes`` ``(B, H, W)`` in the order of ``bands``.

    ``variant``: ``""``, ``"invvar"`` (an INVVAR HDU after the image) or ``"subimage"``
    (an empty primary and one HDU per band). ``bands_card=False`` leaves out ``BANDS``
    (the planes are then named only by ``BAND0..n``).
    """
    from astropy.io import fits

    planes = np.asarray(planes, dtype=np.float32)
    _, h, w = planes.shape
    header = fits.Header()
    header["SURVEY"] = "LegacySurvey"
    header["VERSION"] = "DR10"
    header["IMAGETYP"] = "image"
    if bands_card:
        header["BANDS"] = bands
    for i, b in enumerate(bands):
        header[f"BAND{i}"] = b
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRVAL1"], header["CRVAL2"] = float(ra), float(dec)
    header["CRPIX1"], header["CRPIX2"] = (w + 1) / 2, (h + 1) / 2
    header["CD1_1"], header["CD1_2"] = -pixscale / 3600, 0.0
    header["CD2_1"], header["CD2_2"] = 0.0, pixscale / 3600
    header["IMAGEW"], header["IMAGEH"] = float(w), float(h)
    buf = io.BytesIO()
    if variant == "subimage":
        hdus = [fits.PrimaryHDU()]
        for i, b in enumerate(bands):
            sub = header.copy()
            sub["BAND"] = b
            sub["BRICK"] = "1500p025"
            hdus.append(fits.ImageHDU(planes[i], header=sub))
        fits.HDUList(hdus).writeto(buf)
        return buf.getvalue()
    hdus = [fits.PrimaryHDU(planes if len(bands) > 1 else planes[0], header=header)]
    if variant == "invvar":
        hdus.append(fits.ImageHDU(np.ones_like(planes), name="INVVAR"))
    fits.HDUList(hdus).writeto(buf)
    return buf.getvalue()


def gzipped(data: bytes) -> bytes:
    """``.fits.gz``."""
    return gzip.compress(data)


def fpacked(planes: np.ndarray, ra: float, dec: float, bands: str = "grz") -> bytes:
    """``.fits.fz``: an empty primary and a RICE-compressed image HDU, as fpack writes."""
    from astropy.io import fits

    plain = fits.open(io.BytesIO(service_fits(planes, ra, dec, bands)))
    comp = fits.CompImageHDU(
        np.asarray(planes, np.float32),
        header=plain[0].header,
        compression_type="RICE_1",
        quantize_method=2,
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), comp]).writeto(buf)
    return buf.getvalue()


def galaxy_planes(size: int = 101, seed: int = 0, flux: float = 3.0) -> np.ndarray:
    """g, r, z planes of a galaxy plus DR10-level noise, float32 ``(3, size, size)``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((size, size)) - size // 2
    r = np.hypot(yy, xx)
    galaxy = np.exp(-r / 3.0)
    galaxy /= galaxy.sum()
    colour = np.array([0.25, 1.0, 2.5])[:, None, None]
    sigma = np.array([0.0018, 0.0026, 0.0083])[:, None, None]
    return (flux * colour * galaxy + sigma * rng.standard_normal((3, size, size))).astype(
        np.float32
    )
