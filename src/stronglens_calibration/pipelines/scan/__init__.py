"""``scan``: score every galaxy of a survey region with the trained finder."""

from stronglens_calibration.pipelines.scan.pipeline import create_pipeline

__all__ = ["create_pipeline"]
