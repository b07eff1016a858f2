"""Writes ``08_reporting/run_report.html`` at the end of every ``kedro run`` (completed or
failed), logs a short summary, and gives the MLflow run the same summary as its
description and the page as an artifact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.hooks import hook_impl

from stronglens_calibration.datasets.location import dataset_location
from stronglens_calibration.reporting.run_report import (
    FIGURES,
    SOURCES,
    ReportInputs,
    RunInfo,
    markdown_summary,
    render_run_report,
    summary_lines,
)
from stronglens_calibration.tracking.hooks import (
    context_globals,
    git_commit,
    resolved_data_root,
    table_fingerprint,
)

logger = logging.getLogger(__name__)

#: The catalog entry of the page.
REPORT_DATASET = "run_report"


def _modified(location: Any) -> str:
    try:
        stamp = location.fs.modified(location.path)
    except (OSError, NotImplementedError, ValueError, KeyError):
        return "unknown time"
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _exists(dataset: Any) -> Any:
    """The dataset's location when its file exists, else ``None``."""
    location = dataset_location(dataset)
    if location is None:
        return None
    try:
        return location if location.fs.exists(location.path) else None
    except OSError:
        return None


def stale_pairs(catalog: Any, reports: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Reports whose object table (named with its fingerprint under ``describes``) is no
    longer the table on disk: report name to table name."""
    stale = {}
    for name, report in reports.items():
        for table, fingerprint in (report.get("describes") or {}).items():
            if table not in catalog or _exists(catalog.get(table)) is None:
                continue
            try:
                current = table_fingerprint(catalog.load(table))
            except Exception as exc:  # noqa: BLE001 - the report must still be written
                logger.warning("run report: %s could not be read (%s)", table, exc)
                continue
            if current != fingerprint:
                logger.warning(
                    "%s describes another %s than the one on disk (a run stopped between "
                    "writing them)",
                    name,
                    table,
                )
                stale[name] = table
    return stale


def collect_inputs(catalog: Any, this_run: set[str]) -> ReportInputs:
    """Load every report source and figure that exists, through the catalog.

    A source that exists but cannot be read is logged and left out (the page then lists
    it as missing); nothing here stops the run.
    """
    inputs = ReportInputs(this_run={name for name in SOURCES if name in this_run})
    for name in SOURCES:
        if name not in catalog:
            continue
        dataset = catalog.get(name)
        location = _exists(dataset)
        if location is None:
            continue
        try:
            data = dataset.load()
        except Exception as exc:  # a broken file must not hide the rest of the report
            logger.warning("run report: %s could not be read (%s); left out", name, exc)
            continue
        if isinstance(data, pd.DataFrame):
            inputs.tables[name] = data
        elif isinstance(data, dict):
            inputs.reports[name] = data
        inputs.written[name] = _modified(location)
    inputs.stale_pairs = stale_pairs(catalog, inputs.reports)
    for name in FIGURES:
        entry = f"{name}_figure"
        location = _exists(catalog.get(entry)) if entry in catalog else None
        if location is None:
            continue
        try:
            inputs.figures[name] = location.fs.cat_file(location.path)
        except OSError as exc:
            logger.warning("run report: figure %s could not be read (%s)", entry, exc)
    return inputs


class RunReportHook:
    """Renders the run report after every run and on every failed run."""

    def __init__(self) -> None:
        self._globals: dict[str, Any] = {}
        self._saved: set[str] = set()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._globals = context_globals(context)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._saved = set()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self._saved.add(dataset_name)

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._write(run_params, catalog, "completed")

    @hook_impl(tryfirst=True)
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        self._write(run_params, catalog, f"failed: {first}")

    def _write(self, run_params: dict[str, Any], catalog: Any, status: str) -> None:
        if REPORT_DATASET not in catalog:
            return
        import mlflow

        active = mlflow.active_run()
        info = RunInfo(
            generated_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            pipelines=list(run_params.get("pipeline_names") or ["__default__"]),
            status=status,
            git_commit=git_commit(Path(run_params.get("project_path") or ".")),
            data_root=resolved_data_root(run_params.get("runtime_params"), self._globals),
            mlflow_run_id=active.info.run_id if active is not None else None,
        )
        try:
            inputs = collect_inputs(catalog, self._saved)
            page = render_run_report(info, inputs)
            catalog.save(REPORT_DATASET, page)
        except Exception as exc:  # the report describes the run; it must not end it
            logger.warning("run report could not be written: %s", exc)
            return
        location = dataset_location(catalog.get(REPORT_DATASET))
        lines = summary_lines(inputs)
        logger.info(
            "run summary (%s):\n  %s\nfull report: %s",
            status,
            "\n  ".join(lines) or "nothing to summarise yet",
            location.path if location is not None else REPORT_DATASET,
        )
        if active is not None:
            from stronglens_calibration.tracking.artifacts import log_dataset_file

            mlflow.set_tag("mlflow.note.content", markdown_summary(info, inputs))
            log_dataset_file(catalog.get(REPORT_DATASET), "reports")
