"""``sweeps_to_parquet``: the sweep FITS files as one Spark (parquet) table."""

from stronglens_calibration.pipelines.sweeps_to_parquet.pipeline import create_pipeline

__all__ = ["create_pipeline"]
