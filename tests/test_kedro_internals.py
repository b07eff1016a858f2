"""Pins of the Kedro and kedro-datasets internals the project relies on.

``datasets/location.py`` (pre-flight checks and MLflow artifacts) reads each dataset's
filesystem and path from private attributes, ``datasets/streamed_partitions.py`` extends
``PartitionedDataset`` through its private helpers, and ``config_loader.py`` calls
``OmegaConfigLoader.load_and_merge_dir_config``. These tests fail, naming the attribute,
when an upgrade of Kedro (pinned below 2) or kedro-datasets (below 10) changes them.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.datasets.location import dataset_location
from tests.conftest import PROJECT_ROOT, kedro_cli


@pytest.mark.parametrize(
    ("kind", "suffix"),
    [
        ("pandas.ParquetDataset", "t.parquet"),
        ("pandas.CSVDataset", "t.csv"),
        ("json.JSONDataset", "t.json"),
        ("matplotlib.MatplotlibDataset", "t.png"),
        ("stronglens_calibration.datasets.TorchArtifactDataset", "m.pt"),
    ],
)
def test_file_datasets_expose_their_filesystem_and_path(tmp_path: Path, kind, suffix):
    """``_fs``/``_filesystem``, ``_protocol`` and ``_filepath`` locate one file."""
    from kedro.io import AbstractDataset

    ds = AbstractDataset.from_config("x", {"type": kind, "filepath": str(tmp_path / suffix)})
    location = dataset_location(ds)
    assert location is not None, kind
    assert location.is_file
    assert location.path == str(tmp_path / suffix)
    assert location.protocol == "file"
    assert location.fs.exists(str(tmp_path)) is True


def test_partitioned_datasets_expose_their_folder(tmp_path: Path):
    """``_filesystem`` and ``_normalized_path`` of a ``PartitionedDataset``."""
    from kedro_datasets.partitions import PartitionedDataset

    ds = PartitionedDataset(path=str(tmp_path / "parts"), dataset="pandas.CSVDataset")
    location = dataset_location(ds)
    assert location is not None and not location.is_file
    assert Path(location.path) == tmp_path / "parts"


def test_partitioned_dataset_helpers_the_stamp_store_uses(tmp_path: Path):
    """``_join_protocol``, ``_partition_to_path``, ``_invalidate_caches`` and
    ``_filesystem`` exist on ``PartitionedDataset`` and behave as the store expects:
    the first save of a run replaces the folder, later saves add, staged files move."""
    from kedro_datasets.partitions import PartitionedDataset

    from stronglens_calibration.datasets import StreamedPartitionedDataset
    from stronglens_calibration.stamps.store import StagedPartition

    for name in ("_join_protocol", "_partition_to_path", "_invalidate_caches"):
        assert callable(getattr(PartitionedDataset, name, None)), name
    root = tmp_path / "store"
    kwargs = {
        "path": str(root),
        "dataset": "stronglens_calibration.datasets.NpyDataset",
        "filename_suffix": ".npy",
    }
    StreamedPartitionedDataset(**kwargs).save({"part-00009": np.zeros((1, 3, 5, 5), np.float32)})
    staged = tmp_path / "staged.npy"
    np.save(staged, np.ones((2, 3, 5, 5), np.float32), allow_pickle=False)
    store = StreamedPartitionedDataset(**kwargs)
    store.save({"part-00000": np.zeros((2, 3, 5, 5), np.float32)})
    store.save({"part-00001": StagedPartition(str(staged))})
    assert sorted(p.name for p in root.iterdir()) == ["part-00000.npy", "part-00001.npy"]
    assert not staged.exists()
    loaded = store.load()
    assert np.array_equal(loaded["part-00001"](), np.ones((2, 3, 5, 5), np.float32))


def test_config_loader_merge_method_keeps_its_signature():
    """``load_and_merge_dir_config(conf_path, patterns, key, processed_files,
    read_environment_variables)`` and ``config_patterns`` of ``OmegaConfigLoader``."""
    from kedro.config import OmegaConfigLoader

    params = list(inspect.signature(OmegaConfigLoader.load_and_merge_dir_config).parameters)
    assert params[:5] == ["self", "conf_path", "patterns", "key", "processed_files"]
    assert "read_environment_variables" in params
    loader = OmegaConfigLoader(conf_source=".", base_env="base", default_run_env="local")
    assert "credentials" in loader.config_patterns


def test_local_credentials_are_read_in_another_environment(tmp_path: Path):
    """The project's loader merges conf/local/credentials.yml into ``--env s3``."""
    from stronglens_calibration.config_loader import ProjectConfigLoader

    for env, text in (
        ("base", "data_store: {}\n"),
        ("s3", "data_store: {key: from-env}\nother: {a: 1}\n"),
        ("local", "data_store: {key: from-local}\n"),
    ):
        (tmp_path / env).mkdir()
        (tmp_path / env / "credentials.yml").write_text(text)
    loader = ProjectConfigLoader(
        conf_source=str(tmp_path), base_env="base", default_run_env="local", env="s3"
    )
    creds = loader["credentials"]
    assert creds["data_store"] == {"key": "from-local"}
    assert creds["other"] == {"a": 1}


def test_versioned_file_datasets_resolve_their_load_path(tmp_path: Path):
    """``_version`` and ``_get_load_path`` of a versioned dataset give the saved file."""
    from kedro.io import AbstractDataset

    ds = AbstractDataset.from_config(
        "x",
        {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "t.csv"), "versioned": True},
        load_version=None,
        save_version="2026-01-01T00.00.00.000Z",
    )
    ds.save(pd.DataFrame({"a": [1]}))
    location = dataset_location(ds)
    assert location is not None
    assert location.path.endswith("2026-01-01T00.00.00.000Z/t.csv")


@pytest.mark.slow
def test_a_kedro_command_prints_no_third_party_warning():
    """The project's ``kedro.init`` entry point silences the third-party warnings no user
    can act on (``warning_filters.KNOWN``) before Kedro loads kedro-mlflow, whose import
    raised one on every command (inside mlflow's own ``catch_warnings``)."""
    result = kedro_cli(PROJECT_ROOT, "registry", "list", timeout=300)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "__default__" in output
    assert "Warning" not in output and "WARNING" not in output, output
