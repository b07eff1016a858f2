"""``ingest``: lens candidates, non-lens galaxies and their cutouts into the stamp store."""

from stronglens_calibration.pipelines.ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
