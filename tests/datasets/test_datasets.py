"""The project's Kedro datasets."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from stronglens_calibration.datasets import BinaryFileDataset, FITSTableDataset
from stronglens_calibration.storage.uri import normalise_uri


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
    table = ds.load()
    assert table.n_rows == 2
    out = table.read()
    assert list(out["TYPE"]) == ["DEV", "PSF"]
    assert out["NOBS_G"].dtype == np.int16 and out["NOBS_G"].dtype.byteorder in "=|"
    np.testing.assert_array_equal(out["RA"], frame["RA"])
    # names match case-insensitively and come back as asked for
    assert list(table.read(["ra", "TYPE"]).columns) == ["ra", "TYPE"]
    chunks = list(table.iter_chunks(["RA"], chunk_rows=1))
    assert [len(c) for c in chunks] == [1, 1]
    assert list(pd.concat(chunks)["RA"]) == [1.5, 2.5]


def test_fits_table_names_missing_columns(tmp_path):
    ds = FITSTableDataset(str(tmp_path / "t.fits"))
    ds.save(pd.DataFrame({"RA": [1.0]}))
    with pytest.raises(KeyError, match="MASKBITS"):
        ds.load().read(["MASKBITS"])


def test_fits_table_reads_unsigned_and_vector_columns_like_astropy(tmp_path):
    from astropy.io import fits
    from astropy.table import Table

    t = Table({"U": np.array([0, 65535], dtype=np.uint16), "V": np.arange(6.0).reshape(2, 3)})
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(t)]).writeto(tmp_path / "u.fits")
    table = FITSTableDataset(str(tmp_path / "u.fits")).load()
    out = table.read(["V", "U"])
    assert out["U"].dtype == np.uint16
    assert list(out["U"]) == [0, 65535]
    np.testing.assert_array_equal(np.stack(out["V"].to_numpy()), np.arange(6.0).reshape(2, 3))


def test_truncated_fits_table_is_reported(tmp_path):
    ds = FITSTableDataset(str(tmp_path / "t.fits"))
    ds.save(pd.DataFrame({"RA": np.arange(1000.0)}))
    data = (tmp_path / "t.fits").read_bytes()
    (tmp_path / "t.fits").write_bytes(data[: len(data) - 4000])
    with pytest.raises(ValueError, match="truncated"):
        ds.load().read()


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
