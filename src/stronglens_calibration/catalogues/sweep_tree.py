"""A folder of sweep files as the Legacy Surveys publish it: which files to scan.

DR10 sweeps live in ``south/sweep/10.0/`` and ``south/sweep/10.1/`` (10.1 supersedes
10.0: it fixes the sub-blob photometry), DR9 in ``north/sweep/9.0/`` and
``south/sweep/9.0/``; beside each ``sweep-<box>.fits`` lie row-parallel companion files
(``sweep-<box>-ex.fits``, ``-lc``, ``-pz``) that are not catalogues of objects. This
module decides, from the file names alone, which files a scan reads (the newest release
of each sky box, per photometric system), and checks each chosen file's header (not its
rows) for the columns the scan needs, so that a wrong schema is named before any scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration.catalogues.sweeps import SWEEP_COLUMNS

#: Companion files of a sweep: same rows, other columns (``-ex``, ``-lc``, ``-pz``).
_COMPANION = re.compile(r"sweep-\d{3}[pm]\d{3}-\d{3}[pm]\d{3}-([a-z]+)$", re.IGNORECASE)
_RELEASE = re.compile(r"(?:^|/)(\d+)\.(\d+)(?:/|$)")
_BOX = re.compile(r"sweep-\d{3}[pm]\d{3}-\d{3}[pm]\d{3}", re.IGNORECASE)

#: DR10's boundary between the DR9 north imaging (BASS/MzLS, g r z) and DECam: the
#: north galactic cap above this declination.
NORTH_DEC_MIN_DEG: float = 32.375


@dataclass(frozen=True)
class SweepFile:
    """One sweep file chosen for the scan.

    Attributes
    ----------
    key : str
        Partition key (path below the sweep folder, without ``.fits``).
    box : str
        ``sweep-<ra><p/m><dec>-<ra><p/m><dec>`` (``""`` when the name has none).
    release : tuple of int
        Release folder (``(10, 1)``; ``()`` when there is none).
    photsys : str
        ``N`` (a ``north`` tree), ``S`` (``south``) or ``""`` (from the position).
    """

    key: str
    box: str
    release: tuple[int, ...]
    photsys: str


def describe_key(key: str) -> SweepFile:
    """Box, release and photometric system of a partition key, from its path."""
    parts = [p.lower() for p in key.replace("\\", "/").split("/")]
    photsys = "N" if "north" in parts else "S" if "south" in parts else ""
    found = list(_RELEASE.finditer(key))
    release = (int(found[-1].group(1)), int(found[-1].group(2))) if found else ()
    box = _BOX.search(key)
    return SweepFile(key, box.group(0).lower() if box else "", release, photsys)


def choose_sweep_files(keys: list[str]) -> tuple[list[SweepFile], list[dict[str, str]]]:
    """The files to scan and the ones left out, with the reason.

    Companion files are left out by name; of the copies of one sky box in one
    photometric system, the newest release is kept.

    Returns
    -------
    chosen : list of SweepFile
        In key order.
    skipped : list of dict
        ``key`` and ``reason`` of each file left out.
    """
    skipped: list[dict[str, str]] = []
    candidates: list[SweepFile] = []
    for key in sorted(keys):
        companion = _COMPANION.search(key.rsplit("/", 1)[-1])
        if companion:
            skipped.append({"key": key, "reason": f"companion file (-{companion.group(1)})"})
            continue
        candidates.append(describe_key(key))
    newest: dict[tuple[str, str], SweepFile] = {}
    for f in candidates:
        if not f.box:
            continue
        group = (f.photsys, f.box)
        if group not in newest or f.release > newest[group].release:
            newest[group] = f
    chosen = []
    for f in candidates:
        keep = newest.get((f.photsys, f.box))
        if f.box and keep is not None and keep.key != f.key:
            release = ".".join(map(str, keep.release)) or "another folder"
            skipped.append({"key": f.key, "reason": f"superseded by release {release}"})
            continue
        chosen.append(f)
    return chosen, skipped


#: Columns of DR8 sweeps that DR9 and DR10 replaced (how a DR8 file is recognised).
_DR8_MARKERS = ("SHAPEDEV_R", "SHAPEEXP_R")


#: Sweep columns that hold text; every other column the project reads is a number.
TEXT_COLUMNS: tuple[str, ...] = ("TYPE", "BRICKNAME")


def column_problems(columns: list[str], kinds: dict[str, str] | None = None) -> str:
    """Why a sweep header cannot be scanned (``""`` when it can); names compared
    case-insensitively. With ``kinds`` (numpy kind per column) the types are checked
    too: a Tractor ``TYPE`` stored as a number (``1`` for ``PSF``?) would match no
    type cut and lose every galaxy of the file without a word."""
    have = {c.upper() for c in columns}
    missing = [c for c in SWEEP_COLUMNS if c not in have]
    if missing:
        schema = ""
        if any(m in have for m in _DR8_MARKERS):
            schema = " (a DR8 sweep: SHAPEDEV_*/SHAPEEXP_* instead of SHAPE_R; use DR9 or DR10)"
        return f"lacks column(s) {missing}{schema}"
    if kinds is None:
        return ""
    kind = {c.upper(): k for c, k in kinds.items()}
    wrong = [
        f"{c} is {'text' if kind[c] == 'S' else 'a number'} (expected "
        f"{'text' if c in TEXT_COLUMNS else 'a number'})"
        for c in SWEEP_COLUMNS
        if (kind[c] == "S") != (c in TEXT_COLUMNS)
    ]
    return f"column type(s) wrong: {'; '.join(wrong)}" if wrong else ""


def check_sweep_headers(
    files: list[SweepFile], open_table: Callable[[str], Any]
) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Read every chosen file's header and name each one that cannot be scanned.

    Parameters
    ----------
    files : list of SweepFile
        The files to scan.
    open_table : callable
        ``open_table(key)`` returns a :class:`~.storage.fits_table.FITSTable` (headers
        only are read).

    Returns
    -------
    rows : dict
        Key to its number of rows, for the readable files.
    problems : list of dict
        ``key`` and ``problem`` of each file that cannot be scanned.
    """
    rows: dict[str, int] = {}
    problems: list[dict[str, str]] = []
    for f in files:
        try:
            table = open_table(f.key)
        except (OSError, ValueError, KeyError) as exc:
            problems.append({"key": f.key, "problem": f"unreadable header ({exc})"})
            continue
        problem = column_problems(table.columns, getattr(table, "column_kinds", None))
        if problem:
            problems.append({"key": f.key, "problem": problem})
        else:
            rows[f.key] = int(table.n_rows)
    return rows, problems


def photsys_of_positions(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """``N`` where DR10 serves DR9 north imaging (Dec >= 32.375 in the north galactic
    cap), else ``S``.

    Parameters
    ----------
    ra_deg, dec_deg : numpy.ndarray
        ICRS positions, deg.
    """
    from stronglens_calibration.sky.footprint import galactic_latitude

    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    north = (dec >= NORTH_DEC_MIN_DEG) & (galactic_latitude(ra, dec) > 0)
    return np.where(north, "N", "S").astype(object)


def photsys_of_rows(file_photsys: str, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Photometric system of a sweep file's rows: the tree's (``north``/``south``) when
    the path says, else by position (:func:`photsys_of_positions`)."""
    if file_photsys:
        return np.full(len(ra_deg), file_photsys, dtype=object)
    return photsys_of_positions(ra_deg, dec_deg)


def sweep_plan_table(chosen: list[SweepFile], rows: Mapping[str, int]) -> list[dict[str, Any]]:
    """The chosen files as plain records (for the ingest report)."""
    return [
        {
            "key": f.key,
            "box": f.box,
            "release": ".".join(map(str, f.release)),
            "photsys": f.photsys,
            "rows": int(rows.get(f.key, 0)),
        }
        for f in chosen
    ]


def checked_sweep_files(
    files: Mapping[str, Callable[[], Any]], what: str
) -> tuple[list[SweepFile], list[dict[str, str]], dict[str, int]]:
    """The sweep files of a folder to scan, every header checked first.

    Parameters
    ----------
    files : Mapping
        Partition key to a loader of the file's :class:`~.storage.fits_table.FITSTable`.
    what : str
        The folder, as the messages name it (``the negative_pool folder``).

    Returns
    -------
    chosen, skipped, rows :
        As :func:`choose_sweep_files` and :func:`check_sweep_headers`.

    Raises
    ------
    ValueError
        Naming every file that cannot be scanned, or when no file is left to scan.
    """
    chosen, skipped = choose_sweep_files(list(files))
    rows, problems = check_sweep_headers(chosen, lambda key: files[key]())
    if problems:
        lines = "\n  ".join(f"{p['key']}: {p['problem']}" for p in problems)
        raise ValueError(
            f"{len(problems)} of {len(chosen)} sweep file(s) in {what} cannot be scanned "
            f"(checked before any scan; columns compared case-insensitively):\n  {lines}"
        )
    if not chosen:
        raise ValueError(
            f"{what} holds no sweep file to scan ({len(skipped)} skipped: {skipped[:3]}); "
            "check the catalog path"
        )
    return chosen, skipped, rows
