"""Pre-flight: before long work starts, check that the MLflow tracking store can be
reached and written (before kedro-mlflow opens it), that every input can be read and
every output folder written; fail within seconds (each probe is bounded by
``preflight.timeout_seconds``), naming which one and how to fix it."""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
from kedro.framework.hooks import hook_impl

from stronglens_calibration.datasets.location import dataset_location
from stronglens_calibration.parameter_schema import ParameterError, PositiveFloat, Section
from stronglens_calibration.storage.atomic_write import is_local

logger = logging.getLogger(__name__)

_CREDENTIALS_HINT = (
    "Check the `data_store` credentials: conf/local/credentials.yml, or with `--env s3` the "
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables (and AWS_ENDPOINT_URL for MinIO, "
    "SeaweedFS or another S3-compatible server)."
)


class PreflightError(click.ClickException, RuntimeError):
    """A storage or tracking location the run needs is unusable. A click error:
    ``kedro run`` prints the message (what, where, how to fix it) without a traceback."""

    exit_code = 1


#: Seconds a probe may take when ``preflight.timeout_seconds`` is not set.
DEFAULT_TIMEOUT_S = 5.0


def within(timeout_s: float, probe: Callable[[], Any], what: str) -> Any:
    """``probe()``, or :class:`PreflightError` when it has not answered in ``timeout_s``
    seconds (an unreachable endpoint whose client retries for minutes). The probe runs in
    a daemon thread, so a probe that never returns does not keep the process alive."""
    result: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["value"] = probe()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"preflight {what}", daemon=True).start()
    if not done.wait(timeout_s):
        raise PreflightError(
            f"pre-flight: {what} did not answer within {timeout_s:g} s (is the endpoint "
            "reachable from here?). Raise `preflight.timeout_seconds` for a slow link."
        )
    if "error" in result:
        raise result["error"]
    return result.get("value")


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


def check_inputs(names: list[str], catalog: Any, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
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
            within(timeout_s, lambda fs=fs, path=path: fs.info(path), f"input '{name}' at {path}")
        except PreflightError:
            raise
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


def check_writable(
    names: list[str], catalog: Any, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[str]:
    """Write and delete a probe in every folder that a file-backed output is written to
    (credentials may allow some prefixes and not others); the folders checked."""
    folders: dict[str, tuple[str, Any]] = {}
    for name in names:
        location = dataset_location(catalog.get(name))
        if location is None:
            continue
        folder = location.path.rstrip("/").rsplit("/", 1)[0]
        folders.setdefault(folder, (name, location.fs))
    for folder, (name, fs) in folders.items():
        probe = f"{folder}/.preflight-{uuid.uuid4().hex}"

        def write_and_remove(fs: Any = fs, folder: str = folder, probe: str = probe) -> None:
            if is_local(fs):
                fs.makedirs(folder, exist_ok=True)
            fs.pipe(probe, b"stronglens-calibration pre-flight probe\n")
            fs.rm(probe)

        try:
            within(timeout_s, write_and_remove, f"output folder {folder}")
        except PreflightError:
            raise
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
    return list(folders)


def check_tracking_store(uri: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
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


def tracking_uri_of(context: Any) -> str:
    """The tracking URI kedro-mlflow will open: ``server.mlflow_tracking_uri`` of the
    ``mlflow`` configuration, else ``MLFLOW_TRACKING_URI``, else ``mlruns``; a relative
    SQLite or file path is taken from the project folder."""
    patterns = context.config_loader.config_patterns
    if "mlflow" not in patterns:
        patterns.update({"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]})
    try:
        conf = dict(context.config_loader["mlflow"] or {})
    except Exception:  # noqa: BLE001 - no mlflow.yml: kedro-mlflow's defaults apply
        conf = {}
    uri = (conf.get("server") or {}).get("mlflow_tracking_uri") or os.environ.get(
        "MLFLOW_TRACKING_URI", "mlruns"
    )
    project = Path(context.project_path)
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).is_absolute():
        return f"sqlite:///{project / uri[len('sqlite:///') :]}"
    if "://" not in uri and not Path(uri).is_absolute():
        return str(project / uri)
    return uri


class PreflightSettings(Section):
    """``params:preflight`` (optional): seconds each probe may take."""

    timeout_seconds: PositiveFloat = DEFAULT_TIMEOUT_S

    @classmethod
    def from_params(cls, params: Any) -> PreflightSettings:
        """Validate ``params:preflight``."""
        return cls.parse(params, "preflight")


def timeout_of(params: Any) -> float:
    """``preflight.timeout_seconds`` (seconds each probe may take), checked."""
    try:
        settings = PreflightSettings.from_params((params or {}).get("preflight") or {})
    except ParameterError as exc:
        raise PreflightError(str(exc)) from None
    return float(settings.timeout_seconds)


class PreflightHook:
    """The tracking store is checked first thing in ``after_context_created`` (before
    kedro-mlflow sets its experiment, which would retry an unreachable server for
    minutes); inputs and output folders first thing in ``before_pipeline_run`` (before any
    node). Each probe is bounded by ``preflight.timeout_seconds``."""

    def __init__(self) -> None:
        self._timeout_s = DEFAULT_TIMEOUT_S
        self._tracking_uri = ""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        self._timeout_s = timeout_of(context.params)
        self._tracking_uri = tracking_uri_of(context)
        check_tracking_store(self._tracking_uri, self._timeout_s)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        start = time.perf_counter()
        n = check_inputs(sorted(pipeline.inputs()), catalog, self._timeout_s)
        folders = check_writable(sorted(pipeline.outputs()), catalog, self._timeout_s)
        logger.info(
            "pre-flight: %d inputs readable, %d output folders writable, tracking store %s "
            "(%.1f s)",
            n,
            len(folders),
            self._tracking_uri or "not checked",
            time.perf_counter() - start,
        )
