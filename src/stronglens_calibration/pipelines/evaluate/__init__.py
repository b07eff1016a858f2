"""Pipeline ``evaluate``: held-out metrics, calibration and the selection function."""

from stronglens_calibration.pipelines.evaluate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
