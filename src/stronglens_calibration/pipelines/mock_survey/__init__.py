"""``mock_survey``: renders the bundled demo survey into ``data/01_raw``."""

from stronglens_calibration.pipelines.mock_survey.pipeline import create_pipeline

__all__ = ["create_pipeline"]
