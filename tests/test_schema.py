"""Quarantine reasons are counted by kind without cutting their own punctuation."""

from stronglens_calibration.schema import reason_kind


def test_a_reason_kind_stops_at_the_first_comma_outside_brackets():
    assert reason_kind("duplicate position, kept dr10:1_2_3") == "duplicate position"
    assert reason_kind("wrong shape (64, 64)") == "wrong shape (64, 64)"
    assert reason_kind("wrong shape (3, 64, 64), expected (3, 101, 101)") == (
        "wrong shape (3, 64, 64)"
    )
    assert reason_kind(" nan in core ") == "nan in core"
