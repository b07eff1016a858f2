"""``quality``: NaN/Inf, missing bands, shapes; stamp statistics; quarantine with reasons."""

from stronglens_calibration.pipelines.quality.pipeline import create_pipeline

__all__ = ["create_pipeline"]
