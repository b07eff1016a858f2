"""The parent sample of a scan: every galaxy of a region's sweep files that passes the
same cuts as the training negatives (so the finder is applied where it was trained), or
a user table of positions; objects already in lenscat are flagged, not dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.sweep_tree import photsys_of_rows
from stronglens_calibration.catalogues.sweeps import (
    SWEEP_COLUMNS,
    Cuts,
    dr10_object_id_of_uid,
    dr10_uid,
    photometry,
)
from stronglens_calibration.sky.matching import SkyIndex

#: Columns of the parent sample, in order (sweep photometry where the source has it).
SAMPLE_COLUMNS: tuple[str, ...] = (
    "object_id", "ra", "dec", "photsys", "type", "mag_g", "mag_r", "mag_z", "maskbits",
    "psfsize_r", "psfdepth_r", "brickname", "origin", "known_lens", "known_grading",
)  # fmt: skip


def sweep_file_sample(
    name: str, table: Any, cuts: Cuts, chunk_rows: int, file_photsys: str = ""
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows of one sweep file that pass ``cuts``, read chunk by chunk.

    Parameters
    ----------
    name : str
        The file's key (``origin`` of its rows).
    table : FITSTable
        The sweep file (lazy).
    cuts : Cuts
        The training negatives' cuts (TYPE, MASKBITS, NOBS, z magnitude, Dec, photsys).
    chunk_rows : int
        Rows read at a time.
    file_photsys : str
        ``N``/``S`` from the tree; ``""`` to take it from the position.

    Returns
    -------
    sample : pandas.DataFrame
        :data:`SAMPLE_COLUMNS` (``known_lens`` empty: see :func:`flag_known_lenses`).
    counts : dict
        ``rows_read``, ``rows_passing`` and the rows rejected per cut.
    """
    parts = []
    counts: dict[str, int] = {"rows_read": 0, "rows_passing": 0}
    for raw in table.iter_chunks(list(SWEEP_COLUMNS), chunk_rows):
        counts["rows_read"] += len(raw)
        ra, dec = raw["RA"].to_numpy(np.float64), raw["DEC"].to_numpy(np.float64)
        finite = np.isfinite(ra) & np.isfinite(dec)
        chunk, ra, dec = raw[finite].reset_index(drop=True), ra[finite], dec[finite]
        phot = photometry(chunk)
        phot["photsys"] = photsys_of_rows(file_photsys, ra, dec)
        keep = np.ones(len(chunk), dtype=bool)
        for cut, bad in cuts.failures(phot, dec).items():
            counts[f"cut_{cut}"] = counts.get(f"cut_{cut}", 0) + int(bad.sum())
            keep &= ~bad
        if not keep.any():
            continue
        uid = dr10_uid(chunk["RELEASE"], chunk["BRICKID"], chunk["OBJID"])[keep]
        part = phot[keep].reset_index(drop=True)
        part.insert(0, "object_id", dr10_object_id_of_uid(uid))
        part.insert(1, "ra", ra[keep])
        part.insert(2, "dec", dec[keep])
        part["origin"] = name
        parts.append(part)
        counts["rows_passing"] += int(keep.sum())
    sample = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return sample.reindex(columns=list(SAMPLE_COLUMNS)), counts


def positions_sample(table: pd.DataFrame, origin: str) -> pd.DataFrame:
    """A user table of positions (``ra``, ``dec`` in deg; ``object_id`` optional) as a
    parent sample; rows with unusable coordinates raise, naming them."""
    lower = {c.lower(): c for c in table.columns}
    missing = [c for c in ("ra", "dec") if c not in lower]
    if missing:
        raise ValueError(
            f"the scan positions lack column(s) {missing}; found {list(table.columns)}"
        )
    ra = pd.to_numeric(table[lower["ra"]], errors="coerce").to_numpy(np.float64)
    dec = pd.to_numeric(table[lower["dec"]], errors="coerce").to_numpy(np.float64)
    bad = ~(np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra < 360) & (np.abs(dec) <= 90))
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} scan position(s) are not finite ICRS degrees: rows "
            f"{np.flatnonzero(bad)[:10].tolist()}"
        )
    ids = (
        table[lower["object_id"]].astype(str).to_numpy()
        if "object_id" in lower
        else np.array([f"pos:{r:.6f}{d:+.6f}" for r, d in zip(ra, dec, strict=True)], dtype=object)
    )
    sample = pd.DataFrame({"object_id": ids, "ra": ra, "dec": dec})
    sample["photsys"] = photsys_of_rows("", ra, dec)
    sample["origin"] = origin
    return sample.reindex(columns=list(SAMPLE_COLUMNS))


def flag_known_lenses(
    sample: pd.DataFrame, lenscat: pd.DataFrame, radius_arcsec: float
) -> pd.DataFrame:
    """``known_lens`` (lenscat name, ``""`` if none) and ``known_grading`` of every object
    within ``radius_arcsec`` of a lenscat entry; nothing is dropped."""
    out = sample.copy()
    ra = pd.to_numeric(lenscat["RA [deg]"], errors="coerce").to_numpy(np.float64)
    dec = pd.to_numeric(lenscat["DEC [deg]"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(ra) & np.isfinite(dec)
    names = lenscat["name"].astype(str).to_numpy()[ok]
    grading = lenscat["grading"].astype(str).to_numpy()[ok]
    out["known_lens"] = ""
    out["known_grading"] = ""
    if len(out) and ok.any():
        idx, sep = SkyIndex(ra[ok], dec[ok]).nearest(
            out["ra"].to_numpy(np.float64), out["dec"].to_numpy(np.float64)
        )
        hit = sep <= radius_arcsec
        out.loc[hit, "known_lens"] = names[idx[hit]]
        out.loc[hit, "known_grading"] = grading[idx[hit]]
    return out


def shards_of(sample: pd.DataFrame, shard_size: int, first: int = 0) -> list[pd.DataFrame]:
    """The sample cut into shards of ``shard_size`` objects, in order."""
    if shard_size < 1:
        raise ValueError(f"'shard_size' must be >= 1, got {shard_size}")
    return [
        sample.iloc[start : start + shard_size].reset_index(drop=True)
        for start in range(0, len(sample), shard_size)
    ]


def counts_total(counts: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Per-file counts summed over the files."""
    total: dict[str, int] = {}
    for c in counts.values():
        for k, v in c.items():
            total[k] = total.get(k, 0) + int(v)
    return total
