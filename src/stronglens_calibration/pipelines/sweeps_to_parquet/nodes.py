"""Nodes of the ``sweeps_to_parquet`` pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stronglens_calibration.pipelines.ingest.config import IngestConfig
from stronglens_calibration.storage.fits_table import FITSTable


def convert_sweeps(
    negative_pool: dict[str, Callable[[], FITSTable]], params: dict[str, Any]
) -> Any:
    """The sweep rows the project reads as a Spark DataFrame (``SWEEP_FILE`` and
    ``SWEEP_ROW`` record where each came from); each FITS file is read by an executor.
    Saved by ``spark.SparkDataset`` as parquet, it can serve as ``negative_pool``."""
    from stronglens_calibration.spark.session import active_session
    from stronglens_calibration.spark.sweeps import sweeps_to_spark

    chunk = IngestConfig.from_params(params).sweep_chunk_rows
    return sweeps_to_spark(negative_pool, chunk, active_session())
