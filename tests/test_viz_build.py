"""`kedro viz build` renders every pipeline with its layers and readable node names."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_project, kedro_cli

PIPELINES = {
    "mock_survey", "ingest", "quality", "split", "shortcut_gates", "train", "evaluate", "scan",
}  # fmt: skip
LAYERS = [
    "raw",
    "intermediate",
    "primary",
    "model_input",
    "models",
    "model_output",
    "reporting",
]


@pytest.mark.slow
def test_kedro_viz_build_shows_pipelines_layers_and_nodes(tmp_path):
    project = copy_project(tmp_path / "project")
    result = kedro_cli(project, "viz", "build", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "circular" not in result.stdout + result.stderr
    main = json.loads((project / "build/api/main").read_text())
    assert PIPELINES | {"__default__"} <= {p["id"] for p in main["pipelines"]}
    assert main["layers"] == LAYERS
    tasks = [n for n in main["nodes"] if n["type"] == "task"]
    assert all(n["name"].endswith("_node") for n in tasks)
    assert {"train_lens_finder_node", "measure_data_gates_node", "read_cutouts_node"} <= {
        n["name"] for n in tasks
    }
    assert PIPELINES <= {t["id"] for t in main["tags"]}
