"""Lazy, parallel rendering of cutout files for Kedro's lazy partition saving."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any

from tqdm.auto import tqdm

from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import (
    cutout_filename,
    encode_cutout,
    encode_parquet_table,
    parquet_table_name,
)
from stronglens_calibration.mock.render import render_object

logger = logging.getLogger(__name__)


def render_chunk(records: list[Mapping[str, Any]], cfg: MockSurveyConfig) -> list[bytes]:
    """Render and encode the cutout files of a list of population rows (worker task)."""
    return [encode_cutout(r, render_object(r, cfg), cfg) for r in records]


class ChunkedRenderer:
    """Renders files chunk by chunk in worker processes, a few chunks ahead of demand.

    Kedro's ``PartitionedDataset`` saves partitions in sorted order and calls each lazy
    partition just before writing it, so at most ``n_workers + 1`` chunks are held in
    memory whatever the size of the survey.
    """

    def __init__(self, records: list[Mapping[str, Any]], cfg: MockSurveyConfig) -> None:
        self._cfg = cfg
        self._chunks = [
            records[i : i + cfg.chunk_size] for i in range(0, len(records), cfg.chunk_size)
        ]
        self._futures: dict[int, Future[list[bytes]]] = {}
        self._results: dict[int, list[bytes]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._progress = tqdm(total=len(records), desc="rendering cutouts", unit="stamp")

    def _submit(self, index: int) -> None:
        if index >= len(self._chunks) or index in self._futures or index in self._results:
            return
        if self._cfg.n_workers == 1:
            self._results[index] = render_chunk(self._chunks[index], self._cfg)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._cfg.n_workers, mp_context=multiprocessing.get_context("spawn")
            )
        self._futures[index] = self._pool.submit(render_chunk, self._chunks[index], self._cfg)

    def get(self, chunk: int, position: int) -> bytes:
        """The file at ``position`` of chunk ``chunk``."""
        for ahead in range(chunk, chunk + self._cfg.n_workers + 1):
            self._submit(ahead)
        if chunk in self._futures:
            self._results[chunk] = self._futures.pop(chunk).result()
        data = self._results[chunk][position]
        self._progress.update(1)
        if position == len(self._chunks[chunk]) - 1:
            del self._results[chunk]
            if chunk == len(self._chunks) - 1:
                self.close()
        return data

    def close(self) -> None:
        """Stop the worker processes."""
        self._progress.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def lazy_cutout_files(
    records: list[Mapping[str, Any]], cfg: MockSurveyConfig
) -> dict[str, Callable[[], bytes]]:
    """File name to a callable that returns the file's bytes, rendered on demand.

    Parameters
    ----------
    records : list of Mapping
        Population rows of the objects that have a cutout file.
    cfg : MockSurveyConfig
        Validated parameters.
    """
    in_tables = [r for r in records if r["file_format"] == "parquet_npz"]
    named = sorted(
        ((cutout_filename(r), r) for r in records if r["file_format"] != "parquet_npz"),
        key=lambda item: item[0],
    )
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        raise ValueError("two mock objects share a cutout file name; positions collide")
    renderer = ChunkedRenderer([r for _, r in named], cfg)
    size = cfg.chunk_size
    logger.info("rendering %d cutout files with %d worker(s)", len(names), cfg.n_workers)
    files: dict[str, Callable[[], bytes]] = {
        name: partial(renderer.get, i // size, i % size) for i, name in enumerate(names)
    }
    per_table = cfg.parquet_rows_per_table
    for t, start in enumerate(range(0, len(in_tables), per_table)):
        files[parquet_table_name(t)] = partial(
            _render_table, in_tables[start : start + per_table], cfg
        )
    return files


def _render_table(records: list[Mapping[str, Any]], cfg: MockSurveyConfig) -> bytes:
    """A parquet table of NPZ bytes for objects stored that way (rendered in-process)."""
    return encode_parquet_table(records, render_chunk(records, cfg))
