"""Wiring of the ``sweeps_to_parquet`` pipeline (run with ``--env spark``)."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.sweeps_to_parquet.nodes import convert_sweeps


def create_pipeline(**kwargs: object) -> Pipeline:
    """Sweep FITS files -> ``sweeps_table`` (parquet through ``spark.SparkDataset``)."""
    return Pipeline(
        [
            Node(
                convert_sweeps,
                ["negative_pool", "params:ingest"],
                "sweeps_table",
                name="convert_sweeps_node",
            )
        ],
        tags=["sweeps_to_parquet"],
    )
