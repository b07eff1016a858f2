"""``train``: the torch lens finder, after the data gates passed."""

from stronglens_calibration.pipelines.train.pipeline import create_pipeline

__all__ = ["create_pipeline"]
