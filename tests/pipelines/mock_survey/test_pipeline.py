"""The mock_survey pipeline end to end on a temporary data tree."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from kedro_datasets.partitions import PartitionedDataset

from stronglens_calibration.datasets import BinaryFileDataset, FITSTableDataset
from stronglens_calibration.pipelines.mock_survey import create_pipeline
from stronglens_calibration.stamps.formats import StampDecodeError, decode_stamp

#: every test here renders a (small) mock survey through the pipeline
pytestmark = pytest.mark.slow


def _run(root: Path, params: dict) -> DataCatalog:
    catalog = DataCatalog(
        {
            "negative_pool": PartitionedDataset(
                path=str(root / "sweeps"), dataset=FITSTableDataset, filename_suffix=".fits"
            ),
            "raw_cutouts": PartitionedDataset(
                path=str(root / "cutouts"), dataset=BinaryFileDataset, overwrite=True
            ),
            "scan_sweeps": PartitionedDataset(
                path=str(root / "scan_region/sweeps"),
                dataset=FITSTableDataset,
                filename_suffix=".fits",
            ),
            "scan_cutouts": PartitionedDataset(
                path=str(root / "scan_region/cutouts"), dataset=BinaryFileDataset, overwrite=True
            ),
            "mock_truth": ParquetDataset(filepath=str(root / "mock_truth.parquet")),
            "lens_candidates": CSVDataset(
                filepath=str(root / "lenscat.csv"), save_args={"index": False}
            ),
            "mock_survey_examples_figure": MemoryDataset(copy_mode="assign"),
            "mock_realism_figure": MemoryDataset(copy_mode="assign"),
            "mock_realism": MemoryDataset(),
            "params:mock_survey": MemoryDataset(params),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_mock_survey_writes_real_world_formats(tmp_path, mock_params):
    catalog = _run(tmp_path, mock_params)
    everything = catalog.load("mock_truth")
    truth = everything[everything["region"] == "train"]
    lenscat = catalog.load("lens_candidates")
    # lenscat-format CSV: the catalogue (DESI candidates: only the rendered ones) plus one
    # duplicated positive row
    assert list(lenscat.columns) == [
        "name",
        "RA [deg]",
        "DEC [deg]",
        "zlens",
        "type",
        "grading",
        "ref",
    ]
    assert lenscat.duplicated().sum() == 1
    assert set(truth.loc[truth["kind"] == "lens", "lenscat_name"]) <= set(lenscat["name"])
    # sweep files named like DR10's, holding every object, lenses included
    sweeps = sorted((tmp_path / "sweeps").glob("sweep-*.fits"))
    assert sweeps
    rows = pd.concat([FITSTableDataset(str(p)).load().read() for p in sweeps])
    assert len(rows) == len(truth) + 1  # one duplicated row
    for col in (
        "RA",
        "DEC",
        "TYPE",
        "FLUX_G",
        "FLUX_R",
        "FLUX_Z",
        "NOBS_G",
        "NOBS_R",
        "NOBS_Z",
        "MASKBITS",
        "SHAPE_R",
        "SERSIC",
        "PSFSIZE_R",
        "PSFDEPTH_R",
    ):
        assert col in rows.columns, col
    assert set(rows["TYPE"]) <= {"PSF", "DEV", "EXP", "SER", "REX"}
    # one cutout file per object that is not a star, or a row in a parquet table
    files = sorted(p for p in (tmp_path / "cutouts").iterdir() if p.suffix != ".parquet")
    tables = sorted((tmp_path / "cutouts").glob("*.parquet"))
    table_rows = sum(len(pd.read_parquet(t)) for t in tables)
    assert len(files) + table_rows == (truth["kind"] != "star").sum()
    readers, reasons = set(), set()
    for path in files:
        try:
            stamp = decode_stamp(path.read_bytes(), path.name)
        except StampDecodeError as exc:
            reasons.add(exc.reason)
            continue
        readers.add(stamp.reader)
        assert stamp.pixels.shape == (3, 101, 101)
        assert stamp.pixels.dtype == np.float32
    assert reasons == {"truncated file"}
    assert "fits" in readers
    assert isinstance(catalog.load("mock_survey_examples_figure"), matplotlib.figure.Figure)
    # the realism table: every reference quantity for both classes, read from the files
    realism = catalog.load("mock_realism")
    assert set(realism["mock_class"]) == {"lens", "non-lens"}
    assert (realism["n_mock"] > 0).all() and realism["mock_p50"].notna().all()
    assert isinstance(catalog.load("mock_realism_figure"), matplotlib.figure.Figure)
    # the scan region: its own sweeps and service files, lenses hidden and in no catalogue
    scan = everything[everything["region"] == "scan"]
    assert len(scan) == 40 and (scan["kind"] == "lens").sum() == 2
    assert not set(scan["lenscat_name"]) - {""}
    scan_rows = pd.concat(
        FITSTableDataset(str(p)).load().read()
        for p in sorted((tmp_path / "scan_region/sweeps").glob("sweep-*.fits"))
    )
    assert len(scan_rows) == len(scan)
    assert len(list((tmp_path / "scan_region/cutouts").glob("*.fits"))) == len(scan)


def test_mock_survey_is_reproducible_byte_for_byte_and_across_workers(tmp_path, mock_params):
    _run(tmp_path / "a", mock_params)
    _run(tmp_path / "b", mock_params)
    parallel = copy.deepcopy(mock_params)
    parallel["n_workers"] = 2
    _run(tmp_path / "c", parallel)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a and a == b == c


@pytest.mark.parametrize("fraction", [1.0])
def test_all_npz_layouts_decode(tmp_path, mock_params, fraction):
    params = copy.deepcopy(mock_params)
    params["formats"].update(
        npz_cutout_fraction=0.5, npz_bands_fraction=0.5 * fraction, parquet_npz_fraction=0.0
    )
    params["defects"].update(missing_band_rate=0.0, truncated_file_rate=0.0)
    _run(tmp_path, params)
    files = sorted((tmp_path / "cutouts").iterdir())
    assert {p.suffix for p in files} == {".npz"}
    readers = {decode_stamp(p.read_bytes(), p.name).reader for p in files}
    assert readers == {"npz_cutout", "npz_bands"}


def test_parquet_tables_hold_npz_bytes(tmp_path, mock_params):
    params = copy.deepcopy(mock_params)
    params["formats"].update(
        npz_cutout_fraction=0.0,
        npz_bands_fraction=0.0,
        parquet_npz_fraction=1.0,
        parquet_rows_per_table=10,
    )
    params["defects"].update(missing_band_rate=0.0, truncated_file_rate=0.0)
    catalog = _run(tmp_path, params)
    # no stamp has a file of its own: the realism table is empty rather than an error
    assert catalog.load("mock_realism").empty
    tables = sorted((tmp_path / "cutouts").glob("*.parquet"))
    assert [t.name for t in tables][:2] == [
        "cutout_table_00000.parquet",
        "cutout_table_00001.parquet",
    ]
    rows = pd.concat([pd.read_parquet(t) for t in tables])
    assert list(rows.columns) == ["ra", "dec", "npz"]
    readers = {decode_stamp(blob, "row.npz").reader for blob in rows["npz"]}
    assert readers == {"npz_cutout", "npz_bands"}
