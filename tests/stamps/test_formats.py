"""Stamp file formats: round trips, missing bands, broken files."""

import numpy as np
import pytest

from stronglens_calibration.stamps.formats import (
    StampDecodeError,
    decode_stamp,
    encode_fits,
    encode_npz_bands,
    encode_npz_cutout,
)
from stronglens_calibration.stamps.naming import cutout_stem


@pytest.fixture
def stamp() -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.003, (3, 21, 21)).astype(np.float32)


def test_fits_round_trip_keeps_pixels_bands_and_wcs(stamp):
    data = encode_fits(stamp, "grz", 150.5, -2.25, 0.262)
    out = decode_stamp(data, "x.fits")
    np.testing.assert_array_equal(out.pixels, stamp)
    assert out.bands_present == "grz" and out.missing_bands == "" and out.reader == "fits"
    assert out.meta["CRVAL1"] == 150.5 and out.meta["CRVAL2"] == -2.25


@pytest.mark.parametrize("layout", ["npz_cutout", "npz_bands"])
def test_npz_layouts_round_trip_to_chw(stamp, layout):
    if layout == "npz_cutout":
        data = encode_npz_cutout(stamp, "grz", {"ra": 1.0, "dec": 2.0})
    else:
        data = encode_npz_bands(stamp, "grz")
    out = decode_stamp(data, "x.npz")
    assert out.reader == layout
    np.testing.assert_array_equal(out.pixels, stamp)
    assert out.pixels.dtype == np.float32 and out.pixels.shape == (3, 21, 21)


@pytest.mark.parametrize("fmt", ["fits", "npz_bands"])
def test_missing_band_is_nan_and_reported_never_zero(stamp, fmt):
    two = stamp[[0, 2]]
    data = encode_fits(two, "gz", 0.0, 0.0, 0.262) if fmt == "fits" else encode_npz_bands(two, "gz")
    out = decode_stamp(data, f"x.{'fits' if fmt == 'fits' else 'npz'}")
    assert out.missing_bands == "r"
    assert np.isnan(out.pixels[1]).all()
    np.testing.assert_array_equal(out.pixels[[0, 2]], two)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("x.fits", b"SIMPLE  =                    T" + b"garbage" * 50, "corrupt FITS"),
        ("x.npz", b"PK\x03\x04 not really a zip", "truncated file"),
        ("x.fits", b"", "empty file"),
        ("x.png", b"\x89PNG", "unknown format"),
    ],
)
def test_broken_files_raise_with_a_reason(name, data, reason):
    with pytest.raises(StampDecodeError) as info:
        decode_stamp(data, name)
    assert info.value.reason == reason


@pytest.mark.parametrize("fmt", ["fits", "npz"])
def test_truncated_files_are_recognised(stamp, fmt):
    full = (
        encode_fits(stamp, "grz", 0.0, 0.0, 0.262)
        if fmt == "fits"
        else encode_npz_cutout(stamp, "grz", {})
    )
    with pytest.raises(StampDecodeError) as info:
        decode_stamp(full[: int(0.6 * len(full))], f"x.{fmt}")
    assert info.value.reason in {"truncated file", "corrupt FITS", "corrupt NPZ"}


def test_wrong_shape_is_refused():
    cube = np.zeros((2, 5, 5, 5), dtype=np.float32)
    import io

    buf = io.BytesIO()
    np.savez(buf, cutout=cube)
    with pytest.raises(StampDecodeError) as info:
        decode_stamp(buf.getvalue(), "x.npz")
    assert info.value.reason == "wrong shape"


def test_pickled_npz_is_not_loaded():
    import io

    buf = io.BytesIO()
    np.savez(buf, cutout=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(StampDecodeError):
        decode_stamp(buf.getvalue(), "x.npz")


def test_cutout_stem_is_position_derived_and_stable():
    assert cutout_stem(150.1, -2.25) == "cutout_150.10000_-02.25000"
    assert cutout_stem(5.0, 12.5) == "cutout_005.00000_12.50000"
