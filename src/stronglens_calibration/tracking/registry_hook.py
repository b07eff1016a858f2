"""Logs the lens finder as an MLflow model and registers it once evaluate has written
its report (the calibration it bundles exists then), tagged with the gate verdicts."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

#: The dataset whose saving ends an evaluation.
TRIGGER = "evaluation_report"


class LensFinderRegistryHook:
    """``lens_finder_model`` in the run's artifacts and a new version of the registered
    model ``stronglens_lens_finder`` after every evaluation tracked in MLflow."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._context = context

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        import mlflow

        if dataset_name != TRIGGER or self._catalog is None or self._context is None:
            return
        if mlflow.active_run() is None:
            return
        from mlflow.exceptions import MlflowException

        from stronglens_calibration.tracking.lens_finder_model import REGISTERED_NAME

        try:
            info = self._log(data)
        except MlflowException as exc:  # e.g. a tracking store without a model registry
            logger.warning("the lens finder could not be logged as an MLflow model: %s", exc)
            return
        logger.info(
            "lens finder logged as an MLflow model (%s), registered as %s version %s",
            info.model_uri,
            REGISTERED_NAME,
            info.registered_model_version,
        )

    def _log(self, report: dict[str, Any]) -> Any:
        from stronglens_calibration.pipelines.scan.config import ScanConfig
        from stronglens_calibration.stamps.reading import read_stamps
        from stronglens_calibration.tracking.hooks import verdict_tags
        from stronglens_calibration.tracking.lens_finder_model import log_lens_finder

        catalog = self._catalog
        params = self._context.params
        objects = catalog.load("objects_split")
        test = objects[objects["cutout_ok"] & (objects["split"] == "test")].head(1)
        example = read_stamps(test, catalog.load("stamps"))
        tags = {"evaluate.auc": f"{report.get('auc', float('nan')):.4f}"}
        for name in ("gate_report", "model_gate_report"):
            if name in catalog and catalog.exists(name):
                tags |= verdict_tags(catalog.load(name))
        return log_lens_finder(
            catalog.load("lens_finder"),
            catalog.load("calibration"),
            ScanConfig.from_params(params["scan"]).scoring,
            example,
            tags,
        )
