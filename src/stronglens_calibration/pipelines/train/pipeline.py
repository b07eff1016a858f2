"""Wiring of the ``train`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.shortcut_gates.nodes import measure_model_gate
from stronglens_calibration.pipelines.train.nodes import train_lens_finder


def create_pipeline(**kwargs: object) -> Pipeline:
    """Train the lens finder (needs ``data_gates_passed`` from ``shortcut_gates``)."""
    return Pipeline(
        [
            Node(
                train_lens_finder,
                ["objects_split", "stamps", "data_gates_passed", "params:train"],
                ["lens_finder", "training_history", "training_metrics"],
                name="train_lens_finder_node",
            ),
            # gate 1.7: a shortcut gate that needs the trained model
            Node(
                measure_model_gate,
                ["lens_finder", "objects_split", "stamps", "params:shortcut_gates"],
                ["model_gate_report", "model_gate_metrics"],
                name="measure_model_gate_node",
            ),
        ],
        tags=["train"],
    )
