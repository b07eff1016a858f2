"""What training and evaluation check before they use a model or data: that the gate
verdicts they read were measured on these very data and this very model, and what they
say."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)


def check_data_verdict(
    verdict: Any,
    objects_split: pd.DataFrame,
    consumer: str,
    network_clip_sigma: float | None = None,
) -> None:
    """The data-gate verdict (``data_gates_passed.json``) must name this very
    ``objects_split`` (and, when ``network_clip_sigma`` is given, the clip of the
    network input the consumer will use); gates that would have stopped an enforced run
    (``enforce: false``) and inconclusive ones are logged by name, not hidden.

    Raises
    ------
    ValueError
        For a verdict of an older version, of other data or of another clip.
    """
    from stronglens_calibration.tracking.hooks import table_fingerprint

    if not isinstance(verdict, dict) or not {"objects_split", "blocking"} <= set(verdict):
        raise ValueError(
            "data_gates_passed.json does not name the objects_split it was measured on "
            "(written by an older version): run `kedro run --pipelines shortcut_gates` first"
        )
    current = table_fingerprint(objects_split)
    if verdict["objects_split"] != current:
        raise ValueError(
            f"the data-gate verdict belongs to another objects_split ({verdict['objects_split']},"
            f" this one is {current}): the gates have not passed on these data; run "
            "`kedro run --pipelines shortcut_gates` first"
        )
    gated_clip = verdict.get("network_clip_sigma")
    if network_clip_sigma is not None and gated_clip != float(network_clip_sigma):
        raise ValueError(
            f"the data gates saw the network input clipped at {gated_clip} sky sigmas, "
            f"{consumer} would clip at {network_clip_sigma} (train.preprocessing.clip): set "
            "network_clip_sigma in conf/base/globals.yml (both read it), or run the gates at "
            "that clip (`kedro run --pipelines shortcut_gates --params "
            f"shortcut_gates.network_clip_sigma={network_clip_sigma}`)"
        )
    if verdict["blocking"]:
        logger.warning(
            "%s although data gate(s) %s stop an enforced run (failed: %s; "
            "shortcut_gates.enforce: false)",
            consumer,
            ", ".join(verdict["blocking"]),
            ", ".join(verdict["failed"]) or "none",
        )
    elif verdict["inconclusive"]:
        logger.warning(
            "%s with inconclusive data gate(s) %s: their intervals straddle the "
            "thresholds (see gate_report.json)",
            consumer,
            ", ".join(verdict["inconclusive"]),
        )


def check_model_gate(
    report: Any, lens_finder: dict, objects_split: pd.DataFrame, allow_failed: bool
) -> dict[str, Any]:
    """Gate 1.7 (``model_gate_report.json``) of this very model and data, and whether it
    lets the model be evaluated.

    Returns
    -------
    dict
        ``model_gate_verdict`` and ``override`` (``True`` when gate 1.7 failed and
        ``allow_failed`` let the evaluation go on: the run says so).

    Raises
    ------
    ValueError
        When the report belongs to another model or data, or gate 1.7 failed and
        ``allow_failed`` is false.
    """
    from stronglens_calibration.scan.scoring import model_fingerprint
    from stronglens_calibration.tracking.hooks import table_fingerprint

    if not isinstance(report, dict) or "lens_finder" not in report:
        raise ValueError(
            "model_gate_report.json does not name the model it measured (written by an "
            "older version): run `kedro run --pipelines train` first"
        )
    model, data = model_fingerprint(lens_finder, {}), table_fingerprint(objects_split)
    if report["lens_finder"] != model or report.get("objects_split") != data:
        raise ValueError(
            "gate 1.7 (model_gate_report.json) was measured on another model or objects_split "
            f"(model {report['lens_finder']} vs {model}, data {report.get('objects_split')} "
            f"vs {data}): run `kedro run --pipelines train` first"
        )
    verdict = str(report["verdict"])
    if verdict == "fail" and not allow_failed:
        raise ValueError(
            "gate 1.7 failed: the model still finds lenses with the arc light suppressed, so "
            "it has learnt something other than arcs and its test figures would not describe "
            "a lens finder (model_gate_report.json). Retrain on data that passes the gates, or "
            "evaluate it anyway with `--params evaluate.allow_failed_model_gate=true` (the run "
            "is then tagged evaluate.override)"
        )
    if verdict == "fail":
        logger.warning("evaluating a model whose gate 1.7 failed (allow_failed_model_gate: true)")
    return {"model_gate_verdict": verdict, "override": verdict == "fail"}
