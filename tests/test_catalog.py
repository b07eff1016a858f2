"""The catalog's dataset factories capture exactly the figures and reports meant for
``08_reporting``, and every pipeline dataset is either in the catalog or in memory on
purpose."""

from __future__ import annotations

from kedro.config import OmegaConfigLoader

from tests.conftest import PROJECT_ROOT

FIGURES = {
    "mock_survey_examples_figure",
    "mock_realism_figure",
    "split_sky_map_figure",
    "gate_diagnostics_figure",
    "roc_curve_figure",
    "score_histograms_figure",
    "reliability_diagram_figure",
    "completeness_map_figure",
    "candidate_gallery_figure",
}
REPORTS = {
    "ingest_report",
    "quality_report",
    "split_report",
    "model_gate_report",
    "evaluation_report",
    "baseline_report",
    "scan_report",
}


def _pipeline_datasets() -> set[str]:
    from kedro.framework.project import configure_project

    from stronglens_calibration.pipeline_registry import register_pipelines

    configure_project("stronglens_calibration")
    names: set[str] = set()
    for pipeline in register_pipelines().values():
        names |= {d for d in pipeline.datasets() if not d.startswith("params:")}
    return names


def test_factories_capture_the_figures_and_reports_only() -> None:
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    catalog = loader["catalog"]
    explicit = {k for k in catalog if "{" not in k}
    assert {k for k in catalog if "{" in k} == {"{name}_figure", "{name}_report"}
    from_factory = {
        d for d in _pipeline_datasets() - explicit if d.endswith("_figure") or d.endswith("_report")
    }
    assert from_factory == (FIGURES | REPORTS) - explicit
    assert "split_sky_map_figure" in explicit  # kept explicit for its resolution
    assert "gate_report" in explicit  # model input: another viz layer
