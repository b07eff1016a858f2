"""Nodes of the ``shortcut_gates`` pipeline: wiring over :mod:`stronglens_calibration.gates`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.gates.data_gates import (
    GateConfig,
    failure_message,
    gate_sample,
    run_data_gates,
)
from stronglens_calibration.gates.registry import GATES

logger = logging.getLogger(__name__)


def _metrics(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each measured gate's value under its registered MLflow metric name."""
    return {
        GATES[name].metric: {"value": float(g["value"]), "step": 0}
        for name, g in report.items()
        if name in GATES
    }


def measure_data_gates(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Measure the data gates on the training split.

    Returns
    -------
    report : dict
        ``gate_report.json``: per gate ``value``, ``ci_low``, ``ci_high``, ``threshold``,
        ``passed``; ``n_positive``, ``n_negative``.
    metrics : dict
        The same values as MLflow metrics (``gate_1_6_core_auc``, ..., ``gates_passed``).
    """
    cfg = GateConfig.from_params(params)
    report = run_data_gates(objects_split, stamps, cfg)
    report["enforce"] = cfg.enforce
    metrics = _metrics(report["gates"])
    metrics["gates_passed"] = {"value": float(report["passed"]), "step": 0}
    return report, metrics


def enforce_data_gates(report: dict[str, Any], objects_split: pd.DataFrame) -> dict[str, Any]:
    """Stop the run when a data gate failed and ``enforce`` is on (after the report and
    the metrics were saved); otherwise the verdict training reads.

    Returns
    -------
    dict
        ``passed``, ``enforce``, ``failed`` (gate names) and ``objects_split``: the
        fingerprint of the table the gates measured, so that training can refuse a
        verdict that belongs to other data (a stale file left by an earlier run).
    """
    from stronglens_calibration.tracking.hooks import table_fingerprint

    verdict = {
        "passed": bool(report["passed"]),
        "enforce": bool(report["enforce"]),
        "failed": [name for name, g in report["gates"].items() if not g["passed"]],
        "objects_split": table_fingerprint(objects_split),
    }
    if report["passed"]:
        logger.info("all data gates passed")
        return verdict
    message = failure_message(report)
    if report["enforce"]:
        raise RuntimeError(message)
    logger.warning("%s\n(enforce: false, continuing)", message)
    return verdict


def plot_gate_diagnostics(
    objects_split: pd.DataFrame, report: dict[str, Any], params: dict[str, Any]
) -> matplotlib.figure.Figure:
    """Core-flux distributions per class, and each gate's value against its threshold."""
    from stronglens_calibration.gates.plots import gate_diagnostics_figure

    cfg = GateConfig.from_params(params)
    sample = gate_sample(objects_split, cfg)
    return gate_diagnostics_figure(sample, report, cfg.core_radius_px, cfg.split)


def measure_model_gate(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Gate 1.7 (:func:`~stronglens_calibration.gates.model_gate.arc_suppression_gate`).

    Returns
    -------
    report : dict
        ``model_gate_report.json``.
    metrics : dict
        ``gate_1_7_arc_suppressed_mean_p`` for MLflow.
    """
    from stronglens_calibration.gates.model_gate import arc_suppression_gate
    from stronglens_calibration.models.training import select_device

    cfg = GateConfig.from_params(params)
    m = ParamReader(params, "shortcut_gates").section("model_gate")
    report = arc_suppression_gate(
        lens_finder,
        objects_split,
        stamps,
        cfg,
        m.integer("batch_size", low=1),
        select_device(str(m.raw("device"))),
    )
    return report, _metrics(report)
