"""Pre-flight: before long work starts, check that the inputs can be read, the data root
written and the MLflow tracking store reached; fail within seconds, naming which one
and how to fix it."""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kedro.framework.hooks import hook_impl

from stronglens_calibration.datasets.location import dataset_location

logger = logging.getLogger(__name__)

_CREDENTIALS_HINT = (
    "Check the `data_store` credentials: conf/local/credentials.yml, or with `--env s3` the "
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables (and AWS_ENDPOINT_URL for MinIO, "
    "SeaweedFS or another S3-compatible server)."
)


class PreflightError(RuntimeError):
    """A storage or tracking location the run needs is unusable."""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def _is_access_error(exc: BaseException) -> bool:
    text = _describe(exc).lower()
    return isinstance(exc, PermissionError) or any(
        word in text
        for word in (
            "access denied",
            "accessdenied",
            "forbidden",
            "403",
            "signature",
            "invalidaccesskeyid",
            "credentials",
        )
    )


def check_inputs(names: list[str], catalog: Any) -> int:
    """Every file-backed input exists and can be read; returns how many were checked."""
    checked = 0
    for name in names:
        if name.startswith("params:") or name == "parameters":
            continue
        dataset = catalog.get(name)
        location = dataset_location(dataset)
        if location is None or getattr(dataset, "absent_is_empty", False):
            continue  # not file-backed, or work that may not have started yet
        fs, path = location.fs, location.path
        try:
            fs.info(path)
        except FileNotFoundError as exc:
            raise PreflightError(
                f"pre-flight: input dataset '{name}' does not exist at {path}. Run the pipeline "
                "that writes it first, or point the catalog (or `data_root`) at it."
            ) from exc
        except Exception as exc:  # noqa: BLE001 - every failure becomes a named, actionable one
            hint = _CREDENTIALS_HINT if _is_access_error(exc) else "Is the storage reachable?"
            raise PreflightError(
                f"pre-flight: cannot read input dataset '{name}' at {path} ({_describe(exc)}). "
                + hint
            ) from exc
        checked += 1
    return checked


def check_writable(names: list[str], catalog: Any) -> str | None:
    """Write and delete a probe next to the first file-backed output; its folder or None."""
    for name in names:
        location = dataset_location(catalog.get(name))
        if location is None:
            continue
        fs, path = location.fs, location.path
        folder = path.rstrip("/").rsplit("/", 1)[0]
        probe = f"{folder}/.preflight-{uuid.uuid4().hex}"
        try:
            if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
                fs.makedirs(folder, exist_ok=True)
            fs.pipe(probe, b"stronglens-calibration pre-flight probe\n")
            fs.rm(probe)
        except Exception as exc:  # noqa: BLE001
            hint = (
                _CREDENTIALS_HINT
                if _is_access_error(exc)
                else "Check that it exists and has space."
            )
            raise PreflightError(
                f"pre-flight: cannot write output dataset '{name}' under {folder} "
                f"({_describe(exc)}). " + hint
            ) from exc
        return folder
    return None


def check_tracking_store(uri: str, timeout_s: float = 5.0) -> None:
    """The MLflow tracking store is writable (SQLite, file) or answers (HTTP)."""
    parsed = urlparse(uri)
    fix = "Set `server.mlflow_tracking_uri` in conf/base/mlflow.yml (or conf/local/mlflow.yml)."
    if parsed.scheme == "sqlite":
        db = Path(uri.split("sqlite:///", 1)[-1]) if uri.startswith("sqlite:///") else None
        if db is None:
            return
        folder = db.parent if str(db.parent) else Path()
        if (
            not folder.is_dir()
            or not os.access(folder, os.W_OK)
            or (db.exists() and not os.access(db, os.W_OK))
        ):
            raise PreflightError(
                f"pre-flight: the MLflow tracking store {uri} is not writable ({db}). " + fix
            )
    elif parsed.scheme in ("", "file"):
        folder = Path(parsed.path or uri)
        target = folder if folder.exists() else folder.parent
        if not os.access(target, os.W_OK):
            raise PreflightError(
                f"pre-flight: the MLflow tracking store {uri} is not writable. " + fix
            )
    elif parsed.scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s):  # noqa: S310
                pass
        except (urllib.error.URLError, OSError) as exc:
            raise PreflightError(
                f"pre-flight: the MLflow tracking server {uri} does not answer ({exc}). "
                "Start it, or " + fix[0].lower() + fix[1:]
            ) from exc


class PreflightHook:
    """Runs the checks first thing in ``before_pipeline_run`` (before kedro-mlflow opens
    its run and before any node)."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        import mlflow

        start = time.perf_counter()
        check_tracking_store(mlflow.get_tracking_uri())
        n = check_inputs(sorted(pipeline.inputs()), catalog)
        folder = check_writable(sorted(pipeline.outputs()), catalog)
        logger.info(
            "pre-flight: %d inputs readable, %s writable, tracking store %s (%.1f s)",
            n,
            folder or "no file output",
            mlflow.get_tracking_uri(),
            time.perf_counter() - start,
        )
