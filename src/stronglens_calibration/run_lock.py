"""The data-root lock around every ``kedro run``, and the end of runs that were killed.

Before the first node, the run takes the lock of its data root
(:mod:`~stronglens_calibration.storage.data_root_lock`); a second run on the same data
root is refused at once with a message naming the holder. The lock is released when the
run ends, fails, is interrupted (Ctrl-C) or terminated (SIGTERM, which this hook turns
into a normal exit for the length of the run). A run killed outright (SIGKILL, a lost
machine) leaves its lock; the next run on this machine takes it over and marks the
killed run's MLflow run ``FAILED``, so no run stays ``RUNNING`` past the next start.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from typing import Any

import click
from kedro.framework.hooks import hook_impl

from stronglens_calibration.storage.data_root_lock import DataRootLock, DataRootLocked
from stronglens_calibration.storage.uri import normalise_uri
from stronglens_calibration.tracking.hooks import context_globals, resolved_data_root

logger = logging.getLogger(__name__)

#: The catalog entry whose filesystem (and credentials) reach the data root.
ANCHOR_DATASET = "objects_ingested"


def data_root(
    run_params: dict[str, Any], globals_: dict[str, Any], catalog: Any
) -> tuple[Any, str, str] | None:
    """The data root of a run: its filesystem (that of :data:`ANCHOR_DATASET`, with its
    credentials), its path as that filesystem takes it, and its URI for messages;
    ``None`` for a catalog without the anchor entry."""
    from stronglens_calibration.datasets.location import dataset_location

    root = normalise_uri(resolved_data_root(run_params.get("runtime_params"), globals_))
    try:
        location = dataset_location(catalog.get(ANCHOR_DATASET))
    except Exception:  # noqa: BLE001 - a catalog without the anchor has no data root
        location = None
    if location is None:
        return None
    return location.fs, location.fs._strip_protocol(root), root


class DataRootBusy(click.ClickException, RuntimeError):
    """A run refused because another holds its data root (one screen, no traceback)."""

    exit_code = 1


def mark_failed(mlflow_run_id: str) -> bool:
    """End a run left ``RUNNING`` by a killed process as ``FAILED``; whether it was."""
    import mlflow

    client = mlflow.tracking.MlflowClient()
    try:
        run = client.get_run(mlflow_run_id)
    except mlflow.exceptions.MlflowException:
        return False
    if run.info.status != "RUNNING":
        return False
    client.set_terminated(mlflow_run_id, status="FAILED")
    client.set_tag(mlflow_run_id, "ended_by", "next run: its process was killed")
    return True


class DataRootLockHook:
    """Takes the data root lock before the first node and releases it on every ending."""

    def __init__(self) -> None:
        self._globals: dict[str, Any] = {}
        self._lock: DataRootLock | None = None
        self._recorded = False
        self._previous_sigterm: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._globals = context_globals(context)

    def _lock_for(self, run_params: dict[str, Any], catalog: Any) -> DataRootLock | None:
        found = data_root(run_params, self._globals, catalog)
        return None if found is None else DataRootLock(*found)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        lock = self._lock_for(run_params, catalog)
        if lock is None:
            return
        names = [n for n in run_params.get("pipeline_names") or [] if n]
        command = "kedro run" + (f" --pipelines {','.join(names)}" if names else "")
        try:
            lock.acquire(command)
        except DataRootLocked as exc:
            raise DataRootBusy(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - storage errors become one clear message
            raise DataRootBusy(
                f"cannot create the data root lock {lock.display} ({type(exc).__name__}: "
                f"{exc}); check that the data root is writable with these credentials"
            ) from None
        self._lock, self._recorded = lock, False
        atexit.register(self._on_exit)
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _terminate)
        logger.info("data root lock taken: %s", lock.display)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        """Once kedro-mlflow has opened the run: record it in the lock, and end the run
        of a killed predecessor whose lock was taken over."""
        if self._lock is None or self._recorded:
            return
        self._recorded = True
        import mlflow

        active = mlflow.active_run()
        try:
            dead = self._lock.taken_over
            if dead is not None and dead.mlflow_run_id and mark_failed(dead.mlflow_run_id):
                logger.warning(
                    "MLflow run %s of the killed run (%s) marked FAILED",
                    dead.mlflow_run_id,
                    dead.describe(),
                )
            if active is not None:
                self._lock.record_run(active.info.run_id)
        except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the run
            logger.warning("could not record the run in the data root lock: %s", exc)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._previous_sigterm is not None:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        atexit.unregister(self._on_exit)

    def _on_exit(self) -> None:
        """Interrupted (Ctrl-C, SIGTERM): the MLflow run ends ``KILLED``, not ``FINISHED``
        (MLflow's own exit handler would call it finished), and the lock is released."""
        try:
            import mlflow

            while mlflow.active_run() is not None:  # the run may be on the stack twice
                mlflow.end_run(status="KILLED")
        finally:
            self._release()

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        self._release()


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM during a run: exit as Ctrl-C would, so that every exit path runs."""
    raise SystemExit(128 + signum)
