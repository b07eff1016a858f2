"""Wiring of the ``split`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.split.nodes import (
    assign_split,
    build_split_report,
    match_negatives,
    plot_sky_map,
    verify_split,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Split: HEALPix assignment and overlap guard, matching, report, verification, map."""
    return Pipeline(
        [
            Node(
                assign_split,
                ["objects_qc", "params:split", "stamps"],
                ["split_assigned", "split_overlaps"],
                name="assign_split_node",
            ),
            Node(
                match_negatives,
                ["split_assigned", "params:split"],
                ["objects_split", "split_matching"],
                name="match_negatives_node",
            ),
            Node(
                build_split_report,
                ["objects_split", "split_overlaps", "split_matching", "params:split"],
                "split_report",
                name="build_split_report_node",
            ),
            Node(verify_split, "split_report", None, name="verify_split_node"),
            Node(
                plot_sky_map,
                ["objects_split", "params:split"],
                "split_sky_map_figure",
                name="plot_sky_map_node",
            ),
        ],
        tags=["split"],
    )
