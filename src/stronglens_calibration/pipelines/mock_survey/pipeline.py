"""Wiring of the ``mock_survey`` pipeline."""

from kedro.pipeline import Node, Pipeline

from stronglens_calibration.pipelines.mock_survey.nodes import (
    draw_mock_population,
    measure_mock_realism,
    plot_mock_examples,
    read_lenscat_package_catalogue,
    render_cutouts,
    render_scan_cutouts,
    write_lenscat_catalogue,
    write_scan_sweeps,
    write_sweep_catalogues,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Render the demo survey: lenscat CSV, sweep FITS catalogues, cutout files, a figure."""
    return Pipeline(
        [
            Node(
                read_lenscat_package_catalogue,
                None,
                "lenscat_reference",
                name="read_lenscat_package_catalogue_node",
            ),
            Node(
                draw_mock_population,
                ["lenscat_reference", "params:mock_survey"],
                "mock_truth",
                name="draw_mock_population_node",
            ),
            Node(
                write_lenscat_catalogue,
                ["lenscat_reference", "mock_truth", "params:mock_survey"],
                "lens_candidates",
                name="write_lenscat_catalogue_node",
            ),
            Node(
                write_sweep_catalogues,
                ["mock_truth", "params:mock_survey"],
                "negative_pool",
                name="write_sweep_catalogues_node",
            ),
            Node(
                render_cutouts,
                ["mock_truth", "params:mock_survey"],
                "raw_cutouts",
                name="render_cutouts_node",
            ),
            Node(
                write_scan_sweeps,
                ["mock_truth", "params:mock_survey"],
                "scan_sweeps",
                name="write_scan_sweeps_node",
            ),
            Node(
                render_scan_cutouts,
                ["mock_truth", "params:mock_survey"],
                "scan_cutouts",
                name="render_scan_cutouts_node",
            ),
            Node(
                measure_mock_realism,
                ["mock_truth", "raw_cutouts", "params:mock_survey"],
                ["mock_realism", "mock_realism_figure"],
                name="measure_mock_realism_node",
            ),
            Node(
                plot_mock_examples,
                ["mock_truth", "raw_cutouts", "params:mock_survey"],
                "mock_survey_examples_figure",
                name="plot_mock_examples_node",
            ),
        ],
        tags=["mock_survey"],
    )
