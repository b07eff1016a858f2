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
    return dict(loader["parameters"])


@pytest.fixture
def mock_params(project_parameters: dict[str, Any]) -> dict[str, Any]:
    """The mock survey's parameters at test size: 12 lenses, 24 galaxies, 1 worker."""
    params = copy.deepcopy(project_parameters["mock_survey"])
    params.update(n_positives=12, negatives_per_positive=2.0, n_workers=1, chunk_size=8)
    params["example_grid"]["n_per_class"] = 3
    return params
