"""Wiring of the ``ingest`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.ingest.nodes import (
    assemble_objects,
    check_sweep_files,
    plan_cutouts,
    read_cutouts,
    select_positives,
    select_sample,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Ingest: positives, negatives, cutouts -> ``objects_ingested`` and ``stamps``."""
    return Pipeline(
        [
            Node(
                select_positives,
                ["lens_candidates", "params:ingest"],
                ["ingest_positives", "ingest_positives_quarantine", "ingest_positives_counts"],
                name="select_positives_node",
            ),
            Node(
                check_sweep_files,
                ["negative_pool", "params:ingest"],
                "ingest_sweep_files",
                name="check_sweep_files_node",
            ),
            Node(
                select_sample,
                [
                    "ingest_positives",
                    "negative_pool",
                    "ingest_sweep_files",
                    "lens_candidates",
                    "params:ingest",
                ],
                ["ingest_selection", "ingest_selection_quarantine", "ingest_selection_counts"],
                name="select_sample_node",
            ),
            Node(
                plan_cutouts,
                ["ingest_selection", "raw_cutouts", "params:ingest"],
                ["ingest_plan", "ingest_cutout_index"],
                name="plan_cutouts_node",
            ),
            Node(
                read_cutouts,
                ["ingest_plan", "raw_cutouts", "coadd_bricks", "params:ingest"],
                ["stamps", "cutout_log"],
                name="read_cutouts_node",
            ),
            Node(
                assemble_objects,
                [
                    "ingest_plan",
                    "cutout_log",
                    "ingest_positives_quarantine",
                    "ingest_selection_quarantine",
                    "ingest_positives_counts",
                    "ingest_selection_counts",
                    "ingest_cutout_index",
                ],
                ["objects_ingested", "ingest_quarantine", "ingest_report"],
                name="assemble_objects_node",
            ),
        ],
        tags=["ingest"],
    )
