"""Logs the files of selected datasets as MLflow artifacts as soon as they are published.

A catalog entry opts in with ``metadata: {mlflow_artifact: <artifact folder>}``. The file
is read back through the dataset's own filesystem, so figures, reports and the model are
logged whether the data root is local or on S3 (kedro-mlflow's ``MlflowArtifactDataset``
passes the dataset path to ``mlflow.log_artifact``, which needs a local file).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl

from stronglens_calibration.datasets.location import Location, dataset_location

logger = logging.getLogger(__name__)

#: The metadata key naming the artifact folder of a dataset.
ARTIFACT_KEY = "mlflow_artifact"


def artifact_folder(dataset: Any) -> str | None:
    """The artifact folder a dataset asked for, or ``None``."""
    metadata = getattr(dataset, "metadata", None) or {}
    folder = metadata.get(ARTIFACT_KEY)
    return str(folder) if folder else None


def artifact_file(dataset: Any) -> Location:
    """The file behind a dataset that asked to be logged.

    Raises
    ------
    TypeError
        For a dataset that is not one file on an fsspec filesystem.
    """
    location = dataset_location(dataset)
    if location is None or not location.is_file:
        raise TypeError(
            f"{type(dataset).__name__} is not a single file on an fsspec filesystem; it cannot "
            f"carry metadata '{ARTIFACT_KEY}'"
        )
    return location


def log_dataset_file(dataset: Any, folder: str) -> None:
    """Log the saved file of ``dataset`` under ``folder`` in the active MLflow run."""
    import mlflow

    location = artifact_file(dataset)
    if location.protocol == "file":
        mlflow.log_artifact(location.path, folder)
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / PurePosixPath(location.path).name
        location.fs.get(location.path, str(local))
        mlflow.log_artifact(str(local), folder)


class MlflowArtifactsHook:
    """Logs every dataset with ``metadata.mlflow_artifact`` once its file is published."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self._waiting: list[tuple[str, str]] = []

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog
        for name in catalog.keys():
            if name.startswith("params:") or name == "parameters":
                continue
            dataset = catalog.get(name)
            if artifact_folder(dataset):
                artifact_file(dataset)  # fail at start-up, not after hours of work

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """A file is logged once it is published: at once for most, and for a file of an
        output set when its set is (the set's last save)."""
        import mlflow

        if self._catalog is None or mlflow.active_run() is None:
            return
        folder = artifact_folder(self._catalog.get(dataset_name))
        if folder:
            self._waiting.append((dataset_name, folder))
        still = []
        for name, folder in self._waiting:
            dataset = self._catalog.get(name)
            if getattr(dataset, "awaiting_publication", False):
                still.append((name, folder))
                continue
            log_dataset_file(dataset, folder)
            logger.debug("logged %s to MLflow artifacts/%s", name, folder)
        self._waiting = still

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._waiting = []

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        """Files of sets that were never published are not this run's: not logged."""
        self._waiting = []
