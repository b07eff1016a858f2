"""Sweep catalogues as a Spark table: a parquet copy of the DR10 sweep FITS files (the
columns the project reads, plus the file each row came from and its row number), written
and read with kedro-datasets' ``spark.SparkDataset``, and the selection scanned from it
one sweep file per ``applyInPandas`` group, with the pandas engine's per-file function."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.selection import (
    SelectionConfig,
    SelectionResult,
    plan_selection,
    scan_sweep_file,
)
from stronglens_calibration.catalogues.sweeps import SWEEP_COLUMNS
from stronglens_calibration.storage.fits_table import FITSTable

#: The sweep file a row came from (its name without extension, as in the partitions).
SWEEP_FILE_COLUMN = "SWEEP_FILE"
#: The row's position in its file (keeps the pandas engine's chunking and order).
ROW_COLUMN = "SWEEP_ROW"

_SPARK_TYPES = {
    "i": {1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"},
    "f": {4: "float", 8: "double"},
}


def spark_type(dtype: Any) -> str:
    """DDL type of a column dtype (unsigned integers widened: Spark has none; strings and
    anything else: string)."""
    if not isinstance(dtype, np.dtype):
        return "string"  # pandas string / object dtypes
    if dtype.kind == "b":
        return "boolean"
    if dtype.kind == "u":
        return {1: "smallint", 2: "int", 4: "bigint"}.get(dtype.itemsize, "bigint")
    if dtype.kind in _SPARK_TYPES:
        return _SPARK_TYPES[dtype.kind][dtype.itemsize]
    return "string"


class FrameTable:
    """One sweep file's rows (a pandas frame) with :class:`FITSTable`'s ``iter_chunks``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)

    def iter_chunks(self, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
        """Consecutive chunks of at most ``chunk_rows`` rows of ``columns``."""
        for start in range(0, len(self._frame), chunk_rows):
            yield self._frame.iloc[start : start + chunk_rows][columns].reset_index(drop=True)


def sweeps_to_spark(
    sweeps: Mapping[str, Callable[[], FITSTable]], chunk_rows: int, spark: Any
) -> Any:
    """A Spark DataFrame of every sweep row (the project's columns, ``SWEEP_FILE``,
    ``SWEEP_ROW``), each FITS file read by an executor through fsspec."""
    names = sorted(sweeps)
    if not names:
        raise ValueError("no sweep file to convert (catalog entry 'negative_pool')")
    loaders = dict(sweeps)
    sample = loaders[names[0]]().read(list(SWEEP_COLUMNS), 0, 1)
    schema = ", ".join(
        [f"{c} {spark_type(sample[c].dtype)}" for c in SWEEP_COLUMNS]
        + [f"{SWEEP_FILE_COLUMN} string", f"{ROW_COLUMN} bigint"]
    )

    def read_files(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in frames:
            for name in pdf["name"]:
                start = 0
                for chunk in loaders[name]().iter_chunks(list(SWEEP_COLUMNS), chunk_rows):
                    chunk[SWEEP_FILE_COLUMN] = name
                    chunk[ROW_COLUMN] = np.arange(start, start + len(chunk), dtype=np.int64)
                    start += len(chunk)
                    yield chunk

    tasks = min(len(names), max(spark.sparkContext.defaultParallelism, 1) * 4)
    frame = spark.createDataFrame(pd.DataFrame({"name": names})).repartition(tasks)
    return frame.mapInPandas(read_files, schema)


def select_objects_from_table(
    positives: pd.DataFrame, table: Any, lenscat: pd.DataFrame, cfg: SelectionConfig, spark: Any
) -> SelectionResult:
    """The selection from a Spark table of sweep rows (:func:`sweeps_to_spark`'s layout):
    one ``applyInPandas`` group per sweep file runs ``scan_sweep_file``; the driver folds
    the files' bounded results exactly as the pandas engine does."""
    from pyspark.sql import functions as F

    from stronglens_calibration.spark.selection import SCAN_SCHEMA, decode_scan, encode_scan, fold

    missing = [c for c in (*SWEEP_COLUMNS, SWEEP_FILE_COLUMN, ROW_COLUMN) if c not in table.columns]
    if missing:
        raise KeyError(
            f"the sweep table lacks column(s) {missing}; write it with sweeps_to_parquet"
        )
    names = sorted(r[0] for r in table.select(SWEEP_FILE_COLUMN).distinct().collect())
    plan = plan_selection(positives, names, lenscat, cfg)
    ctx = plan.ctx

    def scan_group(pdf: pd.DataFrame) -> pd.DataFrame:
        name = str(pdf[SWEEP_FILE_COLUMN].iloc[0])
        return pd.DataFrame([encode_scan(scan_sweep_file(name, FrameTable(pdf), ctx))])

    def run(batch: list[str]) -> dict:
        rows = (
            table.where(F.col(SWEEP_FILE_COLUMN).isin(batch))
            .groupBy(SWEEP_FILE_COLUMN)
            .applyInPandas(scan_group, SCAN_SCHEMA)
            .toPandas()
        )
        return {str(r["name"]): decode_scan(r) for r in rows.to_dict("records")}

    return fold(plan, cfg, run)
