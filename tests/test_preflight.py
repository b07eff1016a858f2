"""Pre-flight: a missing input, an unwritable output folder or tracking store is named."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset

from stronglens_calibration.datasets import BrickImagesDataset, NpyDataset
from stronglens_calibration.preflight import (
    PreflightError,
    check_inputs,
    check_tracking_store,
    check_writable,
)


def _catalog(tmp_path) -> DataCatalog:
    from kedro_datasets.pandas import CSVDataset

    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "present.csv", index=False)
    catalog = DataCatalog()
    catalog["present"] = CSVDataset(filepath=str(tmp_path / "present.csv"))
    catalog["absent"] = NpyDataset(str(tmp_path / "nowhere/absent.npy"))
    catalog["in_memory"] = MemoryDataset()
    catalog["bricks"] = BrickImagesDataset(str(tmp_path / "no_coadds"))
    catalog["output"] = CSVDataset(filepath=str(tmp_path / "out/table.csv"))
    return catalog


def test_inputs_are_checked_and_a_missing_one_is_named(tmp_path):
    catalog = _catalog(tmp_path)
    # files are checked; memory datasets and the optional coadd tree are not
    assert check_inputs(["present", "in_memory", "bricks", "params:x"], catalog) == 1
    with pytest.raises(PreflightError, match="input dataset 'absent' does not exist"):
        check_inputs(["present", "absent"], catalog)


def test_the_output_folder_is_probed_and_left_clean(tmp_path):
    folders = check_writable(["in_memory", "output"], _catalog(tmp_path))
    assert folders == [str(tmp_path / "out")]
    assert os.listdir(folders[0]) == []


def test_an_unwritable_output_folder_is_named(tmp_path):
    from kedro_datasets.pandas import CSVDataset

    (tmp_path / "a_file").write_text("not a folder")
    catalog = DataCatalog()
    catalog["output"] = CSVDataset(filepath=str(tmp_path / "a_file/out/table.csv"))
    with pytest.raises(PreflightError, match="cannot write output dataset 'output'"):
        check_writable(["output"], catalog)


def test_the_tracking_store_is_checked(tmp_path):
    check_tracking_store(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(PreflightError, match="tracking store .* is not writable"):
        check_tracking_store(f"sqlite:///{tmp_path / 'missing_folder/mlflow.db'}")
    with pytest.raises(PreflightError, match="does not answer"):
        check_tracking_store("http://127.0.0.1:9/", timeout_s=1.0)


def test_every_output_folder_is_probed_not_only_the_first(tmp_path):
    """Credentials that may write one prefix and not another are found before any node:
    a writable first folder does not hide an unwritable second one."""
    from kedro_datasets.pandas import CSVDataset

    (tmp_path / "a_file").write_text("not a folder")
    catalog = DataCatalog()
    catalog["first"] = CSVDataset(filepath=str(tmp_path / "fine/table.csv"))
    catalog["second"] = CSVDataset(filepath=str(tmp_path / "a_file/out/table.csv"))
    with pytest.raises(PreflightError, match="cannot write output dataset 'second'"):
        check_writable(["first", "second"], catalog)


def test_a_probe_that_never_answers_is_stopped_at_the_timeout():
    import threading

    from stronglens_calibration.preflight import within

    never = threading.Event()
    with pytest.raises(PreflightError, match=r"did not answer within 0.2 s"):
        within(0.2, never.wait, "the bucket")
    assert within(1.0, lambda: 42, "a quick probe") == 42
