"""Project settings (https://docs.kedro.org/en/stable/kedro_project_setup/settings.html)."""

from stronglens_calibration.config_loader import ProjectConfigLoader
from stronglens_calibration.parameter_check import ParameterCheckHook
from stronglens_calibration.preflight import PreflightHook
from stronglens_calibration.spark.hooks import SparkHook
from stronglens_calibration.tracking.artifacts import MlflowArtifactsHook
from stronglens_calibration.tracking.hooks import MlflowTagsHook
from stronglens_calibration.tracking.registry_hook import LensFinderRegistryHook
from stronglens_calibration.tracking.run_report_hook import RunReportHook

HOOKS = (
    SparkHook(),
    PreflightHook(),
    ParameterCheckHook(),
    MlflowTagsHook(),
    MlflowArtifactsHook(),
    LensFinderRegistryHook(),
    RunReportHook(),
)

CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "spark": ["spark*", "spark*/**"],
    },
}
