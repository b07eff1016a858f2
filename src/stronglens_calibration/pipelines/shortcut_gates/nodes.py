"""Nodes of the ``shortcut_gates`` pipeline: wiring over :mod:`stronglens_calibration.gates`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click
import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.gates.data_gates import (
    GateConfig,
    failure_message,
    gate_line,
    gate_sample,
    run_data_gates,
)
from stronglens_calibration.gates.parameters import ShortcutGatesParameters
from stronglens_calibration.gates.registry import GATES
from stronglens_calibration.stamps.generations import shards_for_table

logger = logging.getLogger(__name__)


class GatesStoppedRun(click.ClickException, RuntimeError):
    """The data gates stopped the run. A click error: ``kedro run`` prints its message
    (which gates, values, intervals, thresholds, where the figure is) and exits with
    status 1, without a traceback; the message is the whole story."""

    exit_code = 1


#: A verdict as an MLflow metric (the tags ``gate.<name>`` carry it in words).
VERDICT_CODES = {"pass": 1.0, "inconclusive": 0.0, "fail": -1.0}


def _metrics(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each measured gate's value, interval ends, verdict code (1 pass, 0 inconclusive,
    -1 fail) and null p-value under its registered MLflow metric name."""
    out: dict[str, dict[str, float]] = {}
    for name, g in report.items():
        if name not in GATES:
            continue
        metric = GATES[name].metric
        out[metric] = {"value": float(g["value"]), "step": 0}
        out[f"{metric}_ci_low"] = {"value": float(g["ci_low"]), "step": 0}
        out[f"{metric}_ci_high"] = {"value": float(g["ci_high"]), "step": 0}
        out[f"{metric}_verdict"] = {"value": VERDICT_CODES[g["verdict"]], "step": 0}
        null = g.get("null")
        if null and null.get("measured"):
            out[f"{metric}_null_p"] = {"value": float(null["p_value"]), "step": 0}
    return out


def measure_data_gates(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]], matplotlib.figure.Figure]:
    """Measure the data gates on the training split and draw them (in one node, so that
    the figure exists before enforcement can stop the run: a stopped run needs it most).

    Returns
    -------
    report : dict
        ``gate_report.json`` (:func:`~stronglens_calibration.gates.data_gates.run_data_gates`)
        and ``enforce``.
    metrics : dict
        The same values as MLflow metrics (``gate_1_6_core_auc``, its interval, verdict
        and null p-value, ..., ``gates_passed``: 1 when every gate passed, and
        ``gates_verdict``: 1 pass, 0 inconclusive, -1 fail).
    figure : matplotlib.figure.Figure
        ``gate_diagnostics.png``: core-flux distributions per class, and each gate's
        value, interval, threshold and null band.
    """
    from stronglens_calibration.gates.plots import gate_diagnostics_figure

    cfg = GateConfig.from_params(params)
    stamps = shards_for_table(objects_split, stamps, "objects_split")
    report = run_data_gates(objects_split, stamps, cfg)
    report["enforce"] = cfg.enforce
    metrics = _metrics(report["gates"])
    metrics["gates_passed"] = {"value": float(report["passed"]), "step": 0}
    metrics["gates_verdict"] = {"value": VERDICT_CODES[report["verdict"]], "step": 0}
    sample = gate_sample(objects_split, cfg)
    figure = gate_diagnostics_figure(sample, report, cfg.core_radius_px, cfg.split)
    return report, metrics, figure


def enforce_data_gates(report: dict[str, Any], objects_split: pd.DataFrame) -> dict[str, Any]:
    """Stop the run when a gate blocks (failed, or inconclusive as
    ``shortcut_gates.inconclusive`` says) and ``enforce`` is on, after the report and
    the metrics were saved; otherwise the verdict training reads.

    Returns
    -------
    dict
        ``verdict`` (pass / inconclusive / fail, the worst gate's), ``passed`` (every
        gate passed), ``blocking``, ``failed`` and ``inconclusive`` (gate names),
        ``enforce``, ``objects_split`` (the fingerprint of the table the gates
        measured, so that training can refuse a verdict that belongs to other data: a
        stale file left by an earlier run) and ``network_clip_sigma`` (the clip at which
        the clipped-core gate saw the network's input, which training must use).
    """
    from stronglens_calibration.tracking.hooks import table_fingerprint

    gates = report["gates"]
    names = {
        state: [name for name, g in gates.items() if g["verdict"] == state]
        for state in ("fail", "inconclusive")
    }
    stops = list(report["blocking"])
    verdict = {
        "verdict": report["verdict"],
        "passed": bool(report["passed"]),
        "enforce": bool(report["enforce"]),
        "blocking": stops,
        "failed": names["fail"],
        "inconclusive": names["inconclusive"],
        "objects_split": table_fingerprint(objects_split),
        "network_clip_sigma": float(report["network_clip_sigma"]),
    }
    if not stops:
        if names["inconclusive"]:
            lines = [
                gate_line(n, gates[n], report["n_positive"], report["n_negative"])
                for n in names["inconclusive"]
            ]
            logger.warning(
                "data gates: no gate failed; %d inconclusive (shortcut_gates.inconclusive: "
                "%s lets the run continue):\n  %s",
                len(lines),
                report["inconclusive_rule"],
                "\n  ".join(lines),
            )
        else:
            logger.info("all data gates passed")
        return verdict
    message = failure_message(report)
    if report["enforce"]:
        raise GatesStoppedRun(
            message + "\nThe gate figure: 08_reporting/gate_diagnostics.png; the report: "
            "08_reporting/gate_report.json and run_report.html (under the data root)."
        )
    logger.warning("%s\n(enforce: false, continuing)", message)
    return verdict


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
        ``model_gate_report.json``, with the fingerprints of the model (``lens_finder``)
        and the table (``objects_split``) it was measured on, which evaluation checks.
    metrics : dict
        ``gate_1_7_arc_suppressed_excess_p`` (its interval, verdict) for MLflow.
    """
    from stronglens_calibration.gates.model_gate import arc_suppression_gate
    from stronglens_calibration.models.training import select_device
    from stronglens_calibration.scan.scoring import model_fingerprint
    from stronglens_calibration.tracking.hooks import table_fingerprint

    settings = ShortcutGatesParameters.from_params(params)
    report = arc_suppression_gate(
        lens_finder,
        objects_split,
        stamps,
        settings.gates,
        settings.model_gate.batch_size,
        select_device(settings.model_gate.device),
    )
    report["lens_finder"] = model_fingerprint(lens_finder, {})
    report["objects_split"] = table_fingerprint(objects_split)
    return report, _metrics(report)
