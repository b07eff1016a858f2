"""Wiring of the ``evaluate`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.evaluate.nodes import (
    assemble_evaluation_report,
    evaluate_test,
    fit_calibration,
    measure_selection_function,
    plot_completeness,
    plot_gallery,
    plot_reliability,
    plot_roc,
    plot_score_histograms,
    score_test,
    score_validation,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Score val and test, calibrate on val, measure on test, inject into test."""
    model_inputs = ["lens_finder", "objects_split", "stamps", "params:evaluate"]
    return Pipeline(
        [
            Node(score_validation, model_inputs, "val_scores", name="score_validation_node"),
            Node(score_test, model_inputs, "test_scores", name="score_test_node"),
            Node(
                fit_calibration,
                ["val_scores", "objects_split", "params:evaluate"],
                "calibration",
                name="fit_temperature_on_val_node",
            ),
            Node(
                evaluate_test,
                ["test_scores", "calibration", "params:evaluate"],
                ["test_metrics", "test_candidates"],
                name="evaluate_test_split_node",
            ),
            Node(
                measure_selection_function,
                [*model_inputs[:3], "test_metrics", "params:evaluate"],
                ["injections", "selection_function", "realism"],
                name="injection_recovery_node",
            ),
            Node(
                assemble_evaluation_report,
                [
                    "calibration",
                    "test_metrics",
                    "realism",
                    "selection_function",
                    "params:evaluate",
                ],
                ["evaluation_report", "evaluation_metrics"],
                name="assemble_evaluation_report_node",
            ),
            Node(
                plot_roc,
                ["test_candidates", "evaluation_report"],
                "roc_curve",
                name="plot_roc_node",
            ),
            Node(
                plot_score_histograms,
                ["test_candidates", "evaluation_report"],
                "score_histograms",
                name="plot_score_histograms_node",
            ),
            Node(
                plot_reliability,
                ["test_candidates", "evaluation_report"],
                "reliability_diagram",
                name="plot_reliability_diagram_node",
            ),
            Node(
                plot_completeness,
                "selection_function",
                "completeness_map",
                name="plot_completeness_map_node",
            ),
            Node(
                plot_gallery,
                ["test_candidates", "objects_split", "stamps", "params:evaluate"],
                "candidate_gallery",
                name="plot_candidate_gallery_node",
            ),
        ],
        tags=["evaluate"],
    )
