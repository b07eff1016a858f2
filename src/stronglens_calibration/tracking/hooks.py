"""Tags every MLflow run with the code version, the data root and the object table."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

#: Object tables whose content fingerprint is recorded as a tag when saved.
FINGERPRINTED = ("objects_ingested", "objects_qc", "objects_split")

#: Gate reports whose three-state verdicts become ``gate.<name>`` tags when saved.
GATE_REPORTS = ("gate_report", "model_gate_report")


def verdict_tags(report: dict[str, Any]) -> dict[str, str]:
    """``gate.<name>``: each gate's verdict (pass / inconclusive / fail) in a gate report
    (data gates under ``gates``, the model gate at the top level)."""
    gates = report.get("gates", report)
    return {
        f"gate.{name}": str(g["verdict"])
        for name, g in gates.items()
        if isinstance(g, dict) and "verdict" in g
    }


def git_commit(path: Path) -> str:
    """The checked-out commit (with ``-dirty`` when the tree has changes), or ``unknown``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def table_fingerprint(table: pd.DataFrame) -> str:
    """sha256 (first 16 hex digits) of a table's content, independent of its row order."""
    hashed = pd.util.hash_pandas_object(table.sort_values("object_id"), index=False)
    digest = hashlib.sha256(hashed.to_numpy().tobytes())
    digest.update(",".join(map(str, table.columns)).encode())
    return digest.hexdigest()[:16]


def _set_tags(tags: dict[str, str]) -> None:
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.set_tags(tags)


def resolved_data_root(runtime_params: dict[str, Any] | None, globals_: dict[str, Any]) -> str:
    """The data root the catalog resolves to: ``--params data_root=...`` if given, else the
    environment's ``globals.yml`` (``data`` in base, the bucket under ``--env s3``)."""
    runtime = runtime_params or {}
    return str(runtime.get("data_root") or globals_.get("data_root", "data"))


def context_globals(context: Any) -> dict[str, Any]:
    """The project's ``globals`` configuration (empty when the project has none)."""
    try:
        return dict(context.config_loader["globals"])
    except KeyError:
        return {}


class MlflowTagsHook:
    """``git_commit`` and ``data_root`` at the start of a run (after kedro-mlflow opened
    it), ``fingerprint.<table>`` whenever an object table is saved, ``gate.<name>`` (the
    verdict) whenever a gate report is saved."""

    def __init__(self) -> None:
        self._globals: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._globals = context_globals(context)

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        root = Path(run_params.get("project_path") or ".")
        data_root = resolved_data_root(run_params.get("runtime_params"), self._globals)
        _set_tags({"git_commit": git_commit(root), "data_root": data_root})

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if dataset_name in FINGERPRINTED and isinstance(data, pd.DataFrame):
            _set_tags({f"fingerprint.{dataset_name}": table_fingerprint(data)})
        elif dataset_name in GATE_REPORTS and isinstance(data, dict):
            _set_tags(verdict_tags(data))
