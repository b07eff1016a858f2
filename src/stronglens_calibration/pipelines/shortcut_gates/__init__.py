"""``shortcut_gates``: data gates before training (1.5, 1.6, 1.8, radial) that stop it."""

from stronglens_calibration.pipelines.shortcut_gates.pipeline import create_pipeline

__all__ = ["create_pipeline"]
