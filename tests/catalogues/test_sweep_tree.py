"""Sweep folders as published: companions skipped, the newest release kept, north and
south told apart, and every header checked before any scan (DR10, DR9, DR8 schemas and
lower-case exports, written with the producers' column lists)."""

from __future__ import annotations

import numpy as np
import pytest

from stronglens_calibration.catalogues.sweep_tree import (
    check_sweep_headers,
    choose_sweep_files,
    photsys_of_positions,
)
from stronglens_calibration.storage.fits_table import FITSTable
from tests.producers import sweep_rows, write_sweep

BOX = "sweep-150p000-160p005"


def test_companions_are_skipped_and_the_newest_release_is_kept():
    keys = [
        f"south/sweep/10.0/{BOX}",
        f"south/sweep/10.1/{BOX}",
        f"south/sweep/10.1/{BOX}-ex",
        f"south/sweep/10.1/{BOX}-lc",
        f"south/sweep/10.1/{BOX}-pz",
        f"north/sweep/9.0/{BOX}",
        "sweep-000m005-010p000",
    ]
    chosen, skipped = choose_sweep_files(keys)
    assert [f.key for f in chosen] == [
        f"north/sweep/9.0/{BOX}",
        f"south/sweep/10.1/{BOX}",
        "sweep-000m005-010p000",
    ]
    assert [f.photsys for f in chosen] == ["N", "S", ""]
    reasons = {s["key"]: s["reason"] for s in skipped}
    assert reasons[f"south/sweep/10.0/{BOX}"] == "superseded by release 10.1"
    assert reasons[f"south/sweep/10.1/{BOX}-pz"] == "companion file (-pz)"
    assert len(skipped) == 4


@pytest.mark.parametrize(
    ("release", "lower_case", "problem"),
    [
        ("dr10", False, ""),
        ("dr9", False, ""),
        ("dr10", True, ""),  # an archive export with lower-case names
        ("dr8", False, "DR8 sweep"),
    ],
)
def test_every_header_is_checked_before_any_scan(tmp_path, release, lower_case, problem):
    rows = sweep_rows(np.array([151.0, 152.0]), np.array([1.0, 2.0]))
    path = write_sweep(tmp_path / f"{BOX}.fits", rows, release, lower_case)
    chosen, _ = choose_sweep_files([BOX])
    n_rows, problems = check_sweep_headers(
        chosen, lambda key: FITSTable(lambda: open(path, "rb"), key)
    )
    if problem:
        assert problems and problem in problems[0]["problem"]
        assert "SHAPE_R" in problems[0]["problem"]
    else:
        assert problems == [] and n_rows == {BOX: 2}


def test_lower_case_columns_are_read_under_their_tractor_names(tmp_path):
    rows = sweep_rows(np.array([151.0]), np.array([1.0]))
    path = write_sweep(tmp_path / "lc.fits", rows, "dr10", lower_case=True)
    table = FITSTable(lambda: open(path, "rb"), "lc")
    frame = table.read(["RA", "DEC", "TYPE", "MASKBITS"])
    assert list(frame.columns) == ["RA", "DEC", "TYPE", "MASKBITS"]
    assert frame["TYPE"].tolist() == ["DEV"] and frame["MASKBITS"].dtype == np.int32


def test_the_dr10_north_south_boundary():
    ra = np.array([180.0, 180.0, 20.0, 180.0])  # NGC, NGC, SGC, NGC
    dec = np.array([32.5, 32.2, 40.0, -10.0])
    assert photsys_of_positions(ra, dec).tolist() == ["N", "S", "S", "S"]


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("TYPE", np.array([1, 3], np.int16), "TYPE is a number (expected text)"),
        ("RA", np.array([b"abc", b"152"]), "RA is text (expected a number)"),
    ],
)
def test_a_sweep_column_of_the_wrong_type_is_named_before_any_scan(
    tmp_path, column, values, expected
):
    """An integer TYPE would match no type cut and lose every galaxy of the file in
    silence; a text RA would fail mid-scan naming nothing. Both are refused up front,
    naming the file and the column."""
    from astropy.table import Table

    rows = sweep_rows(np.array([151.0, 152.0]), np.array([1.0, 2.0]))
    path = write_sweep(tmp_path / f"{BOX}.fits", rows)
    table = Table.read(path)
    table.replace_column(column, values)
    table.write(path, overwrite=True)
    chosen, _ = choose_sweep_files([BOX])
    _, problems = check_sweep_headers(chosen, lambda key: FITSTable(lambda: open(path, "rb"), key))
    assert problems and problems[0]["key"] == BOX
    assert expected in problems[0]["problem"]
