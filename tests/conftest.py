"""Shared fixtures: the project's real parameters, shrunk for fast tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_parameters() -> dict[str, Any]:
    """``conf/base`` parameters, resolved as ``kedro run`` resolves them."""
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base"
    )
    params = dict(loader["parameters"])
    # a small scan region: tests that scan set their own
    params["mock_survey"]["scan_region"]["n_galaxies"] = 40
    return params


@pytest.fixture
def mock_params(project_parameters: dict[str, Any]) -> dict[str, Any]:
    """The mock survey's parameters at test size: 12 lenses, 24 galaxies, 1 worker."""
    params = copy.deepcopy(project_parameters["mock_survey"])
    params.update(n_positives=12, negatives_per_positive=2.0, n_workers=1, chunk_size=8)
    params["example_grid"]["n_per_class"] = 3
    params["scan_region"].update(n_galaxies=40, lens_rate=0.05)  # 2 hidden lenses
    return params


def project_catalog(data_root: Path, parameters: dict[str, Any]):
    """The project's real ``conf/base`` catalog with its data root moved to ``data_root``,
    plus ``params:<section>`` entries; a new catalog per simulated ``kedro run``."""
    from kedro.io import DataCatalog, MemoryDataset

    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="base",
        runtime_params={"data_root": str(data_root)},
    )
    config = {
        name: entry
        for name, entry in loader["catalog"].items()
        # MLflow datasets log to the tracking server; tests keep them in memory
        if not str(entry.get("type", "")).startswith("kedro_mlflow")
    }
    catalog = DataCatalog.from_config(config, credentials=dict(loader["credentials"]))
    for key, value in parameters.items():
        catalog[f"params:{key}"] = MemoryDataset(copy.deepcopy(value), copy_mode="assign")
    return catalog


def store_shards(data_root: Path) -> dict[str, Path]:
    """Shard name (``part-NNNNN``) to file of the current stamp-store generation under a
    data root (the one ``03_primary/stamps/CURRENT`` names)."""
    store = data_root / "03_primary" / "stamps"
    generation = (store / "CURRENT").read_text().strip()
    return {p.stem: p for p in sorted((store / generation).glob("part-*.npy"))}


def run_pipelines(names: list[str], data_root: Path, parameters: dict[str, Any]) -> None:
    """Run registered pipelines in order on the real catalog under ``data_root``."""
    from kedro.runner import SequentialRunner

    from stronglens_calibration.pipelines import (
        evaluate,
        ingest,
        mock_survey,
        quality,
        scan,
        shortcut_gates,
        split,
        train,
    )

    registry = {
        "mock_survey": mock_survey,
        "ingest": ingest,
        "quality": quality,
        "split": split,
        "shortcut_gates": shortcut_gates,
        "train": train,
        "evaluate": evaluate,
        "scan": scan,
    }
    for name in names:
        SequentialRunner().run(
            registry[name].create_pipeline(), project_catalog(data_root, parameters)
        )


@pytest.fixture
def small_parameters(project_parameters: dict[str, Any], mock_params: dict[str, Any]):
    """All parameters at test size: the small mock survey, one worker everywhere."""
    params = copy.deepcopy(project_parameters)
    params["mock_survey"] = mock_params
    params["ingest"]["cutouts"]["n_workers"] = 1
    params["ingest"]["cutouts"]["shard_size"] = 16
    # 12 lenses cannot fill every sampling stratum: the shortfall check has its own test
    params["ingest"]["sampling"]["max_negative_shortfall"] = 1.0
    params["quality"]["n_workers"] = 1
    # the gates' permutation null at test size (its calibration has tests of its own)
    params["shortcut_gates"]["permutation_null"].update(permutations=20, bootstrap=50)
    return params


def copy_project(destination: Path) -> Path:
    """A copy of the project (conf, src, pyproject...) without data, caches or history,
    for tests that run the ``kedro`` command line."""
    import shutil

    shutil.copytree(
        PROJECT_ROOT,
        destination,
        ignore=shutil.ignore_patterns(
            ".venv",
            "data",
            "build",
            "mlflow.db",
            "mlruns",
            ".git",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    return destination


def kedro_cli(project: Path, *args: str, timeout: int = 600):
    """Run ``kedro <args>`` in ``project`` with telemetry off; the completed process."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true", MPLBACKEND="Agg")
    kedro = Path(sys.executable).with_name("kedro")
    return subprocess.run(
        [str(kedro), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_slice(pipeline, inputs: dict[str, Any], outputs: list[str]) -> dict[str, Any]:
    """Run a slice of a real pipeline on an in-memory catalog.

    Parameters
    ----------
    pipeline : kedro.pipeline.Pipeline
        E.g. ``create_pipeline().to_nodes("build_split_report_node")``.
    inputs : dict
        Dataset name (``params:<section>`` included) to its data.
    outputs : list of str
        Datasets to return (outputs of the slice).
    """
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    class Kept(MemoryDataset):
        """Not released by the runner after its last reader (the test reads it)."""

        def _release(self) -> None:
            pass

    catalog = DataCatalog()
    for name, value in inputs.items():
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    for name in outputs:
        catalog[name] = Kept(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in outputs}


@pytest.fixture(scope="module")
def spark():
    import shutil as sh

    if sh.which("java") is None:
        pytest.skip("Spark needs a Java runtime (17+) on PATH")
    import yaml

    from stronglens_calibration.spark.session import start_session

    # the session `kedro run --env spark` starts (local[2])
    session = start_session(yaml.safe_load((PROJECT_ROOT / "conf/spark/spark.yml").read_text()))
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
