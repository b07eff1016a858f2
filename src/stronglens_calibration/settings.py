"""Project settings (https://docs.kedro.org/en/stable/kedro_project_setup/settings.html)."""

from stronglens_calibration.warning_filters import quiet_third_party_warnings

quiet_third_party_warnings()  # before the imports below raise them

from stronglens_calibration.config_loader import ProjectConfigLoader  # noqa: E402
from stronglens_calibration.output_sets import OutputSetHook  # noqa: E402
from stronglens_calibration.parameter_check import ParameterCheckHook  # noqa: E402
from stronglens_calibration.preflight import PreflightHook  # noqa: E402
from stronglens_calibration.run_lock import DataRootLockHook  # noqa: E402
from stronglens_calibration.spark.hooks import SparkHook  # noqa: E402
from stronglens_calibration.tracking.artifacts import MlflowArtifactsHook  # noqa: E402
from stronglens_calibration.tracking.hooks import MlflowTagsHook  # noqa: E402
from stronglens_calibration.tracking.registry_hook import LensFinderRegistryHook  # noqa: E402
from stronglens_calibration.tracking.run_report_hook import RunReportHook  # noqa: E402

HOOKS = (
    SparkHook(),
    # pluggy calls first-tried hooks last-registered first: the parameters are checked,
    # then the pre-flight probes run, then the data root lock is taken
    DataRootLockHook(),
    PreflightHook(),
    ParameterCheckHook(),
    MlflowTagsHook(),
    MlflowArtifactsHook(),
    LensFinderRegistryHook(),
    RunReportHook(),
    # registered last, so called first after a save (a set is published before the
    # artifacts are logged) and on an error (the run report sees the files that stay)
    OutputSetHook(),
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
