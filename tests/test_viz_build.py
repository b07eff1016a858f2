"""`kedro viz build` renders every pipeline with its layers and readable node names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PIPELINES = {"mock_survey", "ingest", "quality", "split", "shortcut_gates", "train"}
LAYERS = ["raw", "intermediate", "primary", "model_input", "models", "reporting"]


@pytest.mark.slow
def test_kedro_viz_build_shows_pipelines_layers_and_nodes(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".venv",
            "data",
            "build",
            "mlflow.db",
            ".git",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true")
    kedro = Path(sys.executable).with_name("kedro")
    result = subprocess.run(
        [str(kedro), "viz", "build"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
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
