"""Wiring of the ``quality`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.quality.nodes import flag_objects, measure_stamps


def create_pipeline(**kwargs: object) -> Pipeline:
    """Quality: statistics of every stamp, flags, quarantine and report."""
    return Pipeline(
        [
            Node(
                measure_stamps,
                ["objects_ingested", "stamps", "params:quality"],
                "stamp_statistics",
                name="measure_stamps_node",
            ),
            Node(
                flag_objects,
                ["objects_ingested", "stamp_statistics", "ingest_quarantine", "params:quality"],
                ["objects_qc", "quarantine", "quality_report"],
                name="flag_objects_node",
            ),
        ],
        tags=["quality"],
    )
