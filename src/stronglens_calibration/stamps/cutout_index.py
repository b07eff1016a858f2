"""Finding each object's cutout by the sky position the file holds.

A file's position comes from its name when the name carries one (``cutout_<ra>_<dec>``
with any number of decimals, as the project, the viewer's download button and scripts
write them, or an IAU-style ``J<hhmmss.ss><+ddmmss.s>``), else from the file itself (the
FITS WCS at the centre pixel, NPZ ``meta_ra``/``meta_dec``); rows of parquet tables of
NPZ bytes carry ``ra``/``dec`` columns. Objects are then matched to the nearest file
within a tolerance in arcsec; files that no object claims, objects with two files within
the tolerance, and files whose position cannot be read are reported.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.sky.matching import SkyIndex
from stronglens_calibration.stamps.formats import StampDecodeError, split_name
from stronglens_calibration.stamps.store import CutoutReadError, ReadLimits, read_source

#: ``..._<ra>_<dec>`` (or separated by a comma or a space), decimals required.
_DECIMAL = re.compile(r"(?<![\d.])(\d{1,3}\.\d+)[_,\s]+([+-]?\d{1,2}\.\d+)(?![\d.])")
#: IAU-style ``J100029.61+021530.0``.
_IAU = re.compile(r"J(\d{2})(\d{2})(\d{2}(?:\.\d+)?)([+-])(\d{2})(\d{2})(\d{2}(?:\.\d+)?)")


def position_from_name(stem: str) -> tuple[float, float] | None:
    """``(ra, dec)`` in deg from a file stem, or ``None``.

    Examples
    --------
    >>> position_from_name("cutout_150.1234_-2.2500")
    (150.1234, -2.25)
    >>> position_from_name("cutout_005.00000_12.50000")
    (5.0, 12.5)
    >>> [round(v, 4) for v in position_from_name("DESI J100029.61+021530.0")]
    [150.1234, 2.2583]
    """
    found = list(_DECIMAL.finditer(stem))
    if found:
        ra, dec = float(found[-1].group(1)), float(found[-1].group(2))
        if 0 <= ra < 360 and -90 <= dec <= 90:
            return ra, dec
    iau = _IAU.search(stem)
    if iau:
        hh, mm, ss, sign, dd, dm, ds = iau.groups()
        ra = 15.0 * (int(hh) + int(mm) / 60 + float(ss) / 3600)
        dec = (int(dd) + int(dm) / 60 + float(ds) / 3600) * (-1 if sign == "-" else 1)
        if 0 <= ra < 360 and -90 <= dec <= 90:
            return ra, dec
    return None


def position_from_file(
    data: bytes, name: str, max_decoded_bytes: int | None = None
) -> tuple[float, float] | None:
    """``(ra, dec)`` of the centre pixel from the file's header (FITS WCS, NPZ meta)."""
    from stronglens_calibration.stamps.formats import DEFAULT_MAX_DECODED_BYTES, decode_stamp

    try:
        meta = decode_stamp(data, name, max_decoded_bytes or DEFAULT_MAX_DECODED_BYTES).meta
    except StampDecodeError:
        return None
    if "centre_ra" in meta and "centre_dec" in meta:
        return float(meta["centre_ra"]), float(meta["centre_dec"])
    return None


@dataclass
class CutoutIndex:
    """Where the cutouts are and which sky position each holds.

    Attributes
    ----------
    entries : pandas.DataFrame
        One row per cutout: ``key`` (partition key), ``row`` (row in a parquet table,
        -1 for a file), ``ra``, ``dec`` (deg) and ``located_by`` (``name``, ``header``,
        ``table``).
    unlocated : list of dict
        ``key`` and ``reason`` of files whose position could not be read.
    """

    entries: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["key", "row", "ra", "dec", "located_by"])
    )
    unlocated: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_partitions(
        cls,
        partitions: Mapping[str, Callable[[], bytes]],
        npz_column: str,
        limits: ReadLimits | None = None,
    ) -> CutoutIndex:
        """Index every cutout partition; a file is opened only when its name holds no
        position, a parquet table only for its ``ra``/``dec`` columns. A file that must
        be opened but cannot be read (or is over ``limits``) is listed as unlocated with
        its reason."""
        import pyarrow.parquet as pq

        limits = limits or ReadLimits()
        rows: list[dict[str, Any]] = []
        unlocated: list[dict[str, str]] = []
        for key in sorted(partitions):
            found = split_name(key)
            if found is not None:
                stem = found[0]
                pos = position_from_name(stem)
                how = "name"
                if pos is None:
                    try:
                        data = read_source(("loader", partitions[key]), limits)
                    except CutoutReadError as exc:
                        unlocated.append({"key": key, "reason": exc.reason})
                        continue
                    pos = position_from_file(data, key, limits.max_decoded_bytes)
                    how = "header"
                if pos is None:
                    unlocated.append({"key": key, "reason": "no position in name or header"})
                    continue
                rows.append({"key": key, "row": -1, "ra": pos[0], "dec": pos[1], "located_by": how})
            elif key.lower().endswith(".parquet"):
                data = partitions[key]()
                schema = pq.read_schema(io.BytesIO(data))
                if npz_column not in schema.names:
                    raise ValueError(
                        f"cutout table {key!r} lacks the NPZ column {npz_column!r} ('npz_column')"
                    )
                table = pq.read_table(io.BytesIO(data), columns=["ra", "dec"])
                ra = table.column("ra").to_numpy()
                dec = table.column("dec").to_numpy()
                rows.extend(
                    {"key": key, "row": i, "ra": float(r), "dec": float(d), "located_by": "table"}
                    for i, (r, d) in enumerate(zip(ra, dec, strict=True))
                )
        entries = pd.DataFrame(rows, columns=["key", "row", "ra", "dec", "located_by"])
        return cls(entries.astype({"row": np.int64}), unlocated)

    def locate(
        self, ra: np.ndarray, dec: np.ndarray, tolerance_arcsec: float
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The nearest cutout within ``tolerance_arcsec`` of each object.

        Parameters
        ----------
        ra, dec : numpy.ndarray
            Object positions, deg.
        tolerance_arcsec : float
            Largest object-to-file separation accepted.

        Returns
        -------
        located : pandas.DataFrame
            ``cutout_file`` (``""`` when none), ``cutout_row`` (-1 for a file) and
            ``cutout_sep_arcsec`` (NaN when none), in object order.
        report : dict
            ``files``, ``located_by`` counts, ``unlocated`` files, ``ambiguous`` objects
            (two cutouts within the tolerance: the nearest is used) and
            ``unmatched_files`` (claimed by no object), with examples.
        """
        if not tolerance_arcsec > 0:
            raise ValueError(f"'tolerance_arcsec' must be positive, got {tolerance_arcsec}")
        n = len(ra)
        files = np.full(n, "", dtype=object)
        rows = np.full(n, -1, dtype=np.int64)
        seps = np.full(n, np.nan)
        ambiguous: list[int] = []
        e = self.entries
        if len(e) and n:
            index = SkyIndex(e["ra"].to_numpy(float), e["dec"].to_numpy(float))
            nearest, sep, second = index.two_nearest(np.asarray(ra), np.asarray(dec))
            hit = sep <= tolerance_arcsec
            files[hit] = e["key"].to_numpy(object)[nearest[hit]]
            rows[hit] = e["row"].to_numpy(np.int64)[nearest[hit]]
            seps[hit] = sep[hit]
            ambiguous = np.flatnonzero(hit & (second <= tolerance_arcsec)).tolist()
            claimed = set(zip(files[hit], rows[hit], strict=True))
        else:
            claimed = set()
        every = set(zip(e["key"], e["row"], strict=True))
        unmatched = sorted(every - claimed)
        report = {
            "files": int(len(e)),
            "located_by": {str(k): int(v) for k, v in e["located_by"].value_counts().items()},
            "tolerance_arcsec": float(tolerance_arcsec),
            "unlocated": len(self.unlocated),
            "unlocated_examples": self.unlocated[:20],
            "ambiguous": len(ambiguous),
            "ambiguous_examples": [int(i) for i in ambiguous[:20]],
            "unmatched_files": len(unmatched),
            "unmatched_examples": [k if r < 0 else f"{k}#{r}" for k, r in unmatched[:20]],
        }
        located = pd.DataFrame(
            {"cutout_file": files.astype(str), "cutout_row": rows, "cutout_sep_arcsec": seps}
        )
        return located, report
