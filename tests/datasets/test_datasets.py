"""The project's Kedro datasets."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from stronglens_calibration.datasets import BinaryFileDataset, FITSTableDataset
from stronglens_calibration.datasets.fsspec_file import normalise_uri


def test_fits_table_round_trip_with_strings_and_native_endianness(tmp_path):
    frame = pd.DataFrame(
        {
            "RA": np.array([1.5, 2.5]),
            "TYPE": ["DEV", "PSF"],
            "NOBS_G": np.array([3, 0], dtype=np.int16),
            "FLUX_G": np.array([1.0, 2.0], dtype=np.float32),
        }
    )
    ds = FITSTableDataset(str(tmp_path / "sweep.fits"))
    ds.save(frame)
    out = ds.load()
    assert list(out["TYPE"]) == ["DEV", "PSF"]
    assert out["NOBS_G"].dtype == np.int16 and out["NOBS_G"].dtype.byteorder in "=|"
    np.testing.assert_array_equal(out["RA"], frame["RA"])
    cols = FITSTableDataset(str(tmp_path / "sweep.fits"), load_args={"columns": ["ra", "TYPE"]})
    assert list(cols.load().columns) == ["RA", "TYPE"]


def test_fits_table_names_missing_columns(tmp_path):
    ds = FITSTableDataset(str(tmp_path / "t.fits"))
    ds.save(pd.DataFrame({"RA": [1.0]}))
    with pytest.raises(DatasetError, match="MASKBITS"):
        FITSTableDataset(str(tmp_path / "t.fits"), load_args={"columns": ["MASKBITS"]}).load()


def test_binary_file_round_trip_and_type_check(tmp_path):
    ds = BinaryFileDataset(str(tmp_path / "a" / "b.bin"))
    ds.save(b"\x00\x01abc")
    assert ds.load() == b"\x00\x01abc"
    assert ds.exists()
    with pytest.raises(DatasetError, match="saves bytes"):
        ds.save("text")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3a://bucket/key", "s3://bucket/key"),
        ("S3A://b/k", "s3://b/k"),
        ("s3://b/k", "s3://b/k"),
        ("data/x", "data/x"),
    ],
)
def test_s3a_uris_are_normalised(uri, expected):
    assert normalise_uri(uri) == expected
