"""The SparkSession of a run."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any


def start_session(config: Mapping[str, Any], app_name: str = "stronglens-calibration") -> Any:
    """Create (or return) the SparkSession with ``config`` (``spark.*`` keys).

    The Python workers use this interpreter unless ``PYSPARK_PYTHON`` says otherwise, so
    a local session sees the project's environment (numpy, astropy, ...).
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    for key, value in config.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        builder = builder.config(str(key), text)
    return builder.getOrCreate()


def active_session() -> Any:
    """The running SparkSession; a clear error when there is none."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError(
            "engine 'spark' needs a SparkSession: run with `--env spark` (conf/spark/spark.yml "
            "starts one) or start one before the run"
        )
    return spark
