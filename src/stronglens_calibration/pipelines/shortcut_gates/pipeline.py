"""Wiring of the ``shortcut_gates`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.shortcut_gates.nodes import (
    enforce_data_gates,
    measure_data_gates,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Data gates: measure and plot, then stop the run if one blocks (enforce: true)."""
    return Pipeline(
        [
            Node(
                measure_data_gates,
                ["objects_split", "stamps", "params:shortcut_gates"],
                ["gate_report", "gate_metrics", "gate_diagnostics_figure"],
                name="measure_data_gates_node",
            ),
            Node(
                enforce_data_gates,
                ["gate_report", "objects_split"],
                "data_gates_passed",
                name="enforce_data_gates_node",
            ),
        ],
        tags=["shortcut_gates"],
    )
