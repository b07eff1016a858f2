"""``split``: region-disjoint HEALPix train/val/test, verified, negatives matched."""

from stronglens_calibration.pipelines.split.pipeline import create_pipeline

__all__ = ["create_pipeline"]
