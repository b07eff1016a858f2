"""Wiring of the ``scan`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.scan.nodes import (
    build_inspection_page,
    check_scan_model,
    rank_scan_candidates,
    score_scan,
    select_scan_sample,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Scan: parent sample, model check, resumable shard scoring, candidates, page."""
    return Pipeline(
        [
            Node(
                select_scan_sample,
                ["scan_sweeps", "lens_candidates", "params:ingest", "params:scan"],
                "scan_sample",
                name="select_scan_sample_node",
            ),
            Node(
                check_scan_model,
                ["lens_finder", "params:scan"],
                "scan_model_check",
                name="check_scan_model_node",
            ),
            Node(
                score_scan,
                [
                    "scan_sample",
                    "scan_cutouts",
                    "coadd_bricks",
                    "scan_scores_done",
                    "lens_finder",
                    "calibration",
                    "scan_model_check",
                    "params:scan",
                ],
                "scan_scores",
                name="score_scan_node",
            ),
            Node(
                rank_scan_candidates,
                ["scan_sample", "scan_scores", "lens_finder", "calibration", "params:scan"],
                ["scan_candidates", "scan_report"],
                name="rank_scan_candidates_node",
            ),
            Node(
                build_inspection_page,
                ["scan_candidates", "scan_report", "scan_cutouts", "coadd_bricks", "params:scan"],
                "scan_inspection",
                name="build_inspection_page_node",
            ),
        ],
        tags=["scan"],
    )
