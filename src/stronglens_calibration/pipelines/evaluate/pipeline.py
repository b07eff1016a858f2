"""Wiring of the ``evaluate`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.evaluate import nodes as n


def create_pipeline(**kwargs: object) -> Pipeline:
    """Score val and test, calibrate on val, measure on test, inject into test."""
    model_inputs = [
        "lens_finder",
        "objects_split",
        "stamps",
        "evaluation_clearance",
        "params:evaluate",
    ]
    report_inputs = ["test_candidates", "evaluation_report"]
    return Pipeline(
        [
            Node(
                n.clear_for_evaluation,
                [
                    "lens_finder",
                    "objects_split",
                    "data_gates_passed",
                    "model_gate_report",
                    "params:evaluate",
                ],
                "evaluation_clearance",
                name="clear_for_evaluation_node",
            ),
            Node(n.score_validation, model_inputs, "val_scores", name="score_validation_node"),
            Node(n.score_test, model_inputs, "test_scores", name="score_test_node"),
            Node(
                n.fit_calibration,
                ["val_scores", "objects_split", "params:evaluate"],
                "calibration",
                name="fit_calibration_node",
            ),
            Node(
                n.evaluate_test,
                ["test_scores", "calibration", "params:evaluate"],
                ["test_metrics", "test_candidates"],
                name="evaluate_test_node",
            ),
            Node(
                n.plan_injections,
                ["objects_split", "params:evaluate"],
                "injection_plan",
                name="plan_injections_node",
            ),
            Node(
                n.render_injected_stamps,
                ["injection_plan", "stamps", "params:evaluate"],
                "injected_stamps",
                name="render_injected_stamps_node",
            ),
            Node(
                n.score_injected_stamps,
                [
                    "lens_finder",
                    "injection_plan",
                    "injected_stamps",
                    "test_metrics",
                    "params:evaluate",
                ],
                ["injections", "injection_features"],
                name="score_injected_stamps_node",
            ),
            Node(
                n.tabulate_selection,
                ["injections", "test_metrics", "params:evaluate"],
                "selection_function",
                name="tabulate_selection_node",
            ),
            Node(
                n.check_realism,
                [
                    *model_inputs[:3],
                    "injections",
                    "injection_features",
                    "params:evaluate",
                ],
                "realism",
                name="check_realism_node",
            ),
            # a cheap baseline on the same split: does the CNN earn its cost?
            Node(
                n.fit_baseline,
                ["objects_split", "stamps", "params:evaluate"],
                "baseline_scores",
                name="fit_baseline_node",
            ),
            Node(
                n.compare_baseline,
                ["test_candidates", "baseline_scores", "params:evaluate"],
                "baseline_report",
                name="compare_baseline_node",
            ),
            Node(
                n.assemble_evaluation_report,
                [
                    "calibration",
                    "test_metrics",
                    "realism",
                    "selection_function",
                    "baseline_report",
                    "evaluation_clearance",
                    "params:evaluate",
                ],
                ["evaluation_report", "evaluation_metrics"],
                name="assemble_evaluation_report_node",
            ),
            Node(n.plot_roc, report_inputs, "roc_curve_figure", name="plot_roc_node"),
            Node(
                n.plot_score_histograms,
                [*report_inputs, "params:evaluate"],
                "score_histograms_figure",
                name="plot_score_histograms_node",
            ),
            Node(
                n.plot_reliability,
                report_inputs,
                "reliability_diagram_figure",
                name="plot_reliability_node",
            ),
            Node(
                n.plot_completeness,
                "selection_function",
                "completeness_map_figure",
                name="plot_completeness_node",
            ),
            Node(
                n.plot_gallery,
                ["test_candidates", "objects_split", "stamps", "params:evaluate"],
                "candidate_gallery_figure",
                name="plot_gallery_node",
            ),
        ],
        tags=["evaluate"],
    )
