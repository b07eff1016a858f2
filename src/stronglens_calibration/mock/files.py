"""The mock survey's raw files: lenscat CSV rows, DR10 sweep tables and cutout files."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.catalogues.lenscat import matches_patterns
from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.render import central_component, confuser_of
from stronglens_calibration.photometry import band_fluxes
from stronglens_calibration.stamps.formats import encode_fits, encode_npz_bands, encode_npz_cutout
from stronglens_calibration.stamps.naming import cutout_stem

#: DR10 RELEASE number of the south (DECam) footprint.
DR10_RELEASE = 10000
#: Bit set in MASKBITS for objects near a bright star (DR10 bit 1, BRIGHT).
MASKBIT_BRIGHT = 2
#: Sweep files cover 10 deg of RA by 5 deg of Dec.
SWEEP_RA_STEP, SWEEP_DEC_STEP = 10, 5
#: Bricks are 0.25 deg on a side.
BRICK_SIZE_DEG = 0.25
#: Fraction of a truncated file that survives.
TRUNCATED_FRACTION = 0.6


def lenscat_with_duplicates(
    lenscat: pd.DataFrame, truth: pd.DataFrame, cfg: MockSurveyConfig
) -> pd.DataFrame:
    """The demo's lenscat table: every entry the package ships except the ground-based
    DESI candidates that were not rendered, plus duplicated rows of chosen positives.

    The demo survey renders ``n_positives`` of lenscat's ~5,000 DESI candidates; the
    others are left out of the table (as if lenscat listed only these), while all the
    other entries stay, so that ingest's exclusion radius works against the real catalogue.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, RA [deg], DEC [deg], zlens, type, grading, ref``.
    """
    rng = np.random.default_rng([cfg.seed, 7])
    names = truth.loc[truth["kind"] == "lens", "lenscat_name"].to_numpy()
    desi = matches_patterns(lenscat, cfg.ref_patterns, cfg.name_patterns)
    keep = ~desi | lenscat["name"].isin(list(names)).to_numpy()
    n_dup = min(cfg.defects.duplicated_catalogue_rows, len(names))
    dup_names = rng.choice(names, n_dup, replace=False) if n_dup else []
    dups = lenscat[lenscat["name"].isin(list(dup_names))].drop_duplicates("name")
    return pd.concat([lenscat[keep], dups], ignore_index=True)


def _sweep_name(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra0 = (np.floor(ra / SWEEP_RA_STEP) * SWEEP_RA_STEP).astype(int)
    dec0 = (np.floor(dec / SWEEP_DEC_STEP) * SWEEP_DEC_STEP).astype(int)

    def fmt_dec(d: int) -> str:
        return f"{'p' if d >= 0 else 'm'}{abs(d):03d}"

    return np.array(
        [
            f"sweep-{a:03d}{fmt_dec(d)}-{a + SWEEP_RA_STEP:03d}{fmt_dec(d + SWEEP_DEC_STEP)}"
            for a, d in zip(ra0, dec0, strict=True)
        ]
    )


def _brick(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = np.floor((dec + 90.0) / BRICK_SIZE_DEG).astype(int)
    col = np.floor(ra / BRICK_SIZE_DEG).astype(int)
    dec_c = (row + 0.5) * BRICK_SIZE_DEG - 90.0
    ra_c = (col + 0.5) * BRICK_SIZE_DEG
    names = np.array(
        [
            f"{round(r * 10):04d}{'p' if d >= 0 else 'm'}{round(abs(d) * 10):03d}"
            for r, d in zip(ra_c, dec_c, strict=True)
        ]
    )
    return names, (row * int(360 / BRICK_SIZE_DEG) + col).astype(np.int32)


def _tractor_shape(
    row: Mapping[str, Any], cfg: MockSurveyConfig
) -> tuple[str, float, float, float, float, np.ndarray]:
    """TYPE, SERSIC, SHAPE_R, SHAPE_E1, SHAPE_E2 and total g, r, z flux of a galaxy row."""
    central = central_component(row)
    extra = confuser_of(row, cfg)
    flux = central.fluxes + sum((c.fluxes for c in extra), np.zeros(len(BANDS)))
    n, r_eff, q, phi = (float(row[k]) for k in ("sersic_n", "r_eff", "axis_ratio", "phi"))
    kind = str(row["confuser"])
    if kind == "ring":
        # Tractor fits a galaxy with a ring by a wide, flat (low-index) profile
        tractor_type, sersic, r_eff = "SER", 0.7, max(r_eff, extra[0].shape.radius)
    elif kind in ("spiral", "edge_on", "blue_clumpy"):
        disc = extra[0].shape if kind != "blue_clumpy" else extra[-1].shape
        tractor_type, sersic = "EXP", 1.0
        r_eff, q = max(r_eff, disc.r_eff), min(q, disc.q)
    else:  # the host's own model: Tractor's fit of it is the model itself
        tractor_type = str(row["host_type"])
        sersic = {"DEV": 4.0, "EXP": 1.0, "REX": 1.0, "PSF": 0.0}.get(tractor_type, n)
        if tractor_type == "PSF":
            r_eff = 0.0
    e = (1 - q) / (1 + q)
    return tractor_type, sersic, r_eff, e * np.cos(2 * phi), e * np.sin(2 * phi), flux


def sweep_tables(
    truth: pd.DataFrame, cfg: MockSurveyConfig, duplicate_rows: bool = True
) -> dict[str, pd.DataFrame]:
    """DR10 sweep-format tables (Tractor columns) of every mock object, one per sweep file.

    Every object is there, lenses included (real lens galaxies are in the sweeps too);
    ingest finds the lenses' photometry by position and must exclude them from negatives.

    Returns
    -------
    dict
        Sweep file stem (``sweep-000m005-010p000``) to a table with columns ``RELEASE,
        BRICKID, BRICKNAME, OBJID, TYPE, RA, DEC, FLUX_G/R/Z, FLUX_IVAR_G/R/Z, NOBS_G/R/Z,
        MASKBITS, SHAPE_R, SHAPE_E1, SHAPE_E2, SERSIC, PSFSIZE_G/R/Z, PSFDEPTH_G/R/Z``;
        fluxes in nanomaggies, sizes in arcsec, depths in 1/nanomaggy^2.
    """
    rng = np.random.default_rng([cfg.seed, 8])
    n = len(truth)
    ra, dec = truth["ra"].to_numpy(), truth["dec"].to_numpy()
    brickname, brickid = _brick(ra, dec)
    types, sersic, shape_r, e1, e2 = [], np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    flux = np.zeros((n, len(BANDS)))
    for i, row in enumerate(truth.to_dict("records")):
        if row["kind"] == "star":
            types.append("PSF")
            flux[i] = band_fluxes(row["mag_r"], row["g_minus_r"], row["r_minus_z"])
            continue
        t, sersic[i], shape_r[i], e1[i], e2[i], flux[i] = _tractor_shape(row, cfg)
        types.append(t)
    cols: dict[str, Any] = {
        "RELEASE": np.full(n, DR10_RELEASE, dtype=np.int16),
        "BRICKID": brickid,
        "BRICKNAME": brickname,
        "OBJID": np.zeros(n, dtype=np.int32),
        "TYPE": np.array(types),
        "RA": ra,
        "DEC": dec,
    }
    sky = cfg.noise.sky_sigma
    for j, b in enumerate(BANDS):
        if b not in cfg.stamp.bands:
            continue
        k = cfg.stamp.bands.index(b)
        fwhm = truth[f"fwhm_{b}"].to_numpy()
        sigma_psf_pix = fwhm / 2.3548 / cfg.stamp.pixel_scale
        pix_sigma = sky[k] * truth["depth_factor"].to_numpy()
        psfdepth = 1.0 / (pix_sigma**2 * 4 * np.pi * sigma_psf_pix**2)
        err = np.sqrt(1 / psfdepth) * (1 + shape_r / fwhm)
        nobs = truth[f"nobs_{b}"].to_numpy()
        measured = np.where(nobs > 0, flux[:, j] + err * rng.standard_normal(n), 0.0)
        cols[f"FLUX_{b.upper()}"] = measured.astype(np.float32)
        cols[f"FLUX_IVAR_{b.upper()}"] = np.where(nobs > 0, 1 / err**2, 0.0).astype(np.float32)
        cols[f"NOBS_{b.upper()}"] = nobs.astype(np.int16)
        cols[f"PSFSIZE_{b.upper()}"] = np.where(nobs > 0, fwhm, 0.0).astype(np.float32)
        cols[f"PSFDEPTH_{b.upper()}"] = np.where(nobs > 0, psfdepth, 0.0).astype(np.float32)
    stars = truth["kind"].to_numpy() == "star"
    cols["MASKBITS"] = np.where(stars, 0, truth["maskbits"].to_numpy()).astype(np.int32)
    cols["SHAPE_R"] = shape_r.astype(np.float32)
    cols["SHAPE_E1"] = e1.astype(np.float32)
    cols["SHAPE_E2"] = e2.astype(np.float32)
    cols["SERSIC"] = sersic.astype(np.float32)
    table = pd.DataFrame(cols)
    table["OBJID"] = table.groupby("BRICKNAME").cumcount().astype(np.int32)
    n_dup = cfg.defects.duplicated_catalogue_rows if duplicate_rows else 0
    if n_dup:
        galaxies = np.flatnonzero(truth["kind"].to_numpy() == "galaxy")
        dup = rng.choice(galaxies, min(n_dup, len(galaxies)), replace=False)
        table = pd.concat([table, table.iloc[np.sort(dup)]], ignore_index=True)
    file_of = _sweep_name(table["RA"].to_numpy(), table["DEC"].to_numpy())
    return {name: part.reset_index(drop=True) for name, part in table.groupby(file_of, sort=True)}


def cutout_filename(row: Mapping[str, Any]) -> str:
    """File name of an object's cutout: position-derived stem plus ``.fits`` or ``.npz``.

    Objects stored in a parquet table of NPZ bytes (``file_format == "parquet_npz"``)
    have no file of their own; see :func:`parquet_table_name`.
    """
    if row["file_format"] == "parquet_npz":
        raise ValueError("objects in parquet tables have no file of their own")
    suffix = ".fits" if row["file_format"] == "fits" else ".npz"
    return cutout_stem(float(row["ra"]), float(row["dec"])) + suffix


def parquet_table_name(index: int) -> str:
    """Name of the ``index``-th parquet table of NPZ bytes."""
    return f"cutout_table_{index:05d}.parquet"


def encode_parquet_table(rows: list[Mapping[str, Any]], blobs: list[bytes]) -> bytes:
    """A parquet table of NPZ bytes, as earlier pipelines stored stamps.

    Columns: ``ra``, ``dec`` (deg, float64) and ``npz`` (binary, one NPZ file per row).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "ra": pa.array([float(r["ra"]) for r in rows], pa.float64()),
            "dec": pa.array([float(r["dec"]) for r in rows], pa.float64()),
            "npz": pa.array(blobs, pa.binary()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def encode_cutout(row: Mapping[str, Any], stamp: np.ndarray, cfg: MockSurveyConfig) -> bytes:
    """Encode a rendered stamp in the row's file format, applying file-level defects.

    Parameters
    ----------
    row : Mapping
        Population row (``file_format``, ``defect``, ``ra``, ``dec``, ``render_index``).
    stamp : numpy.ndarray
        float32 ``(B, H, W)``, bands ``cfg.stamp.bands``, nanomaggies per pixel.
    cfg : MockSurveyConfig
        Validated parameters.

    Returns
    -------
    bytes
        The file's content: a missing band is left out of the file (or, in the HWC NPZ
        layout that always holds three planes, written as zeros); a truncated file keeps
        its first 60 %.
    """
    bands = "".join(cfg.stamp.bands)
    fmt, defect = str(row["file_format"]), str(row["defect"])
    if fmt == "parquet_npz":  # both NPZ layouts appear inside parquet tables
        fmt = "npz_cutout" if int(row["render_index"]) % 2 == 0 else "npz_bands"
    if defect == "missing_band":
        rng = np.random.default_rng([cfg.seed, int(row["render_index"]), 2])
        drop = int(rng.integers(0, len(bands)))
        if fmt == "npz_cutout":
            stamp = stamp.copy()
            stamp[drop] = 0.0
        else:
            stamp = np.delete(stamp, drop, axis=0)
            bands = bands[:drop] + bands[drop + 1 :]
    ra, dec = float(row["ra"]), float(row["dec"])
    if fmt == "fits":
        data = encode_fits(stamp, bands, ra, dec, cfg.stamp.pixel_scale)
    elif fmt == "npz_cutout":
        meta = {"ra": ra, "dec": dec, "pixscale": cfg.stamp.pixel_scale}
        data = encode_npz_cutout(stamp, bands, meta)
    elif fmt == "npz_bands":
        data = encode_npz_bands(stamp, bands)
    else:
        raise ValueError(f"row has unknown 'file_format' {fmt!r}")
    if defect == "truncated":
        data = data[: int(len(data) * TRUNCATED_FRACTION)]
    return data
