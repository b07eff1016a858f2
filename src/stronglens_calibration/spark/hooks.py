"""Starts the SparkSession when the environment has a ``spark.yml`` (``--env spark``)."""

from __future__ import annotations

import logging
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class SparkHook:
    """Reads ``spark*.yml`` of the run's environment and starts the session from it."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        try:
            config = context.config_loader["spark"]
        except (MissingConfigException, KeyError):
            return
        if not config:
            return
        from stronglens_calibration.spark.session import start_session

        spark = start_session(config)
        spark.sparkContext.setLogLevel("WARN")
        logger.info("Spark %s session: %s", spark.version, spark.sparkContext.master)
