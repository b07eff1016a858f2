"""Reading one shard of the stamp store: cutout files and coadd bricks, in slot order.
Kedro-free; the pandas engine runs it in worker processes, the Spark engine in one task
per shard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.bricks import extract_brick
from stronglens_calibration.stamps.store import (
    Expectation,
    ReadLimits,
    Source,
    StampChecks,
    decode_into,
)


class CutoutSources:
    """Where each planned cutout's bytes come from (a file loader, a URI, or a row of a
    parquet table of NPZ bytes, each table read once); picklable, for worker processes
    and Spark executors."""

    def __init__(
        self,
        raw_cutouts: dict[str, Callable[[], bytes]],
        npz_column: str,
        checks: StampChecks | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self._raw = raw_cutouts
        self._npz_column = npz_column
        #: What each file's header must agree with (``None``: no check).
        self.checks = checks
        #: File and decoded-size caps per cutout.
        self.limits = limits or ReadLimits()
        self._table_key: str | None = None
        self._table: list[bytes] = []

    def __call__(self, key: str, row: int) -> tuple[Source, str]:
        if row >= 0:
            if key != self._table_key:
                import io

                import pyarrow.parquet as pq

                column = pq.read_table(io.BytesIO(self._raw[key]()), columns=[self._npz_column])
                self._table = column.column(0).to_pylist()
                self._table_key = key
            return ("bytes", self._table[row]), f"{key}#{row}.npz"
        if key in self._raw:
            return ("loader", self._raw[key]), key
        return ("uri", key), key


def cut_from_bricks(
    rows: pd.DataFrame, bricks: Callable[[str, str], Any], size: int
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Stamps and log entries of brick-sourced rows (``brickname``, ``ra``, ``dec``), each
    brick image opened once.

    Returns
    -------
    stamps : numpy.ndarray
        float32 ``(n, 3, size, size)``.
    infos : list of dict
        ``reader`` (``brick``), ``bands_present`` and ``cutout_error`` per row.
    """
    stamps = np.full((len(rows), len(BANDS), size, size), np.nan, dtype=np.float32)
    infos: list[dict[str, str]] = [{} for _ in range(len(rows))]
    names = rows["brickname"].to_numpy(str)
    for brick in dict.fromkeys(names):
        idx = np.flatnonzero(names == brick)
        out = extract_brick(
            brick, rows["ra"].to_numpy()[idx], rows["dec"].to_numpy()[idx], bricks, size
        )
        stamps[idx] = out.pixels
        for j, i in enumerate(idx):
            infos[i] = {
                "reader": "brick",
                "bands_present": out.bands_present[j],
                "cutout_error": out.errors[j],
            }
    return stamps, infos


def file_sources(
    rows: pd.DataFrame, sources: CutoutSources
) -> tuple[list[Source], list[str], list[Expectation | None]]:
    """Sources, names and expected positions of the shard's rows that come from files
    (not bricks), in order."""
    files = rows[(rows["cutout_origin"] != "brick").to_numpy()]
    located = [
        sources(str(k), int(r))
        for k, r in zip(files["cutout_file"], files["cutout_row"], strict=True)
    ]
    checks = sources.checks
    expects: list[Expectation | None] = (
        [(float(ra), float(dec), checks) for ra, dec in zip(files["ra"], files["dec"], strict=True)]
        if checks is not None
        else [None] * len(files)
    )
    return [s for s, _ in located], [m for _, m in located], expects


def complete_shard(
    rows: pd.DataFrame,
    decoded: np.ndarray,
    decoded_infos: list[dict[str, str]],
    bricks: Callable[[str, str], Any] | None,
    size: int,
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """The whole shard: the decoded file stamps (rows of :func:`file_sources`, in order)
    in their slots, and the brick rows cut from their bricks.

    Returns
    -------
    stamps : numpy.ndarray
        float32 ``(n, 3, size, size)``; NaN where a cutout is unusable.
    infos : list of dict
        ``reader``, ``bands_present``, ``cutout_error`` per slot.
    """
    from_brick = (rows["cutout_origin"] == "brick").to_numpy()
    if not from_brick.any():
        return decoded, decoded_infos
    if bricks is None:
        raise ValueError("the plan cuts stamps from bricks but no coadd_bricks were given")
    stamps = np.empty((len(rows), len(BANDS), size, size), dtype=np.float32)
    infos: list[dict[str, str]] = [{} for _ in range(len(rows))]
    files, brick_rows = np.flatnonzero(~from_brick), np.flatnonzero(from_brick)
    stamps[files] = decoded
    stamps[brick_rows], brick_infos = cut_from_bricks(rows.iloc[brick_rows], bricks, size)
    for j, info in zip(files, decoded_infos, strict=True):
        infos[j] = info
    for j, info in zip(brick_rows, brick_infos, strict=True):
        infos[j] = info
    return stamps, infos


def read_shard(
    rows: pd.DataFrame,
    sources: CutoutSources,
    bricks: Callable[[str, str], Any] | None,
    size: int,
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Every slot of one shard, in this process (the Spark engine's task).

    Parameters
    ----------
    rows : pandas.DataFrame
        Plan rows of the shard in slot order: ``cutout_file``, ``cutout_row``,
        ``cutout_origin`` and, for brick rows, ``brickname``, ``ra``, ``dec`` (deg).
    sources : CutoutSources
        Where file bytes come from.
    bricks : callable or None
        ``bricks(brick, band)`` opens a coadd image (needed only for brick rows).
    size : int
        Stamp side in pixels.

    Returns
    -------
    stamps : numpy.ndarray
        float32 ``(n, 3, size, size)``; NaN where a cutout is unusable.
    infos : list of dict
        ``reader``, ``bands_present``, ``cutout_error`` per slot.
    """
    srcs, names, expects = file_sources(rows, sources)
    decoded = np.empty((len(srcs), len(BANDS), size, size), dtype=np.float32)
    infos = decode_into(decoded, list(range(len(srcs))), srcs, names, size, expects, sources.limits)
    return complete_shard(rows, decoded, infos, bricks, size)
