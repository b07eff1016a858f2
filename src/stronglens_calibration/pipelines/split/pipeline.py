"""Wiring of the ``split`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.split.nodes import plot_sky_map, split_objects, verify_split


def create_pipeline(**kwargs: object) -> Pipeline:
    """Split: HEALPix assignment, overlap guard, matching, report, verification, sky map."""
    return Pipeline(
        [
            Node(
                split_objects,
                ["objects_qc", "params:split"],
                ["objects_split", "split_report"],
                name="split_objects_node",
            ),
            Node(verify_split, "split_report", None, name="verify_split_node"),
            Node(
                plot_sky_map,
                ["objects_split", "params:split"],
                "split_sky_map",
                name="plot_sky_map_node",
            ),
        ],
        tags=["split"],
    )
