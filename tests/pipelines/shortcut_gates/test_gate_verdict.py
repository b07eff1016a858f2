"""The data-gate verdict names the table it was measured on, and training refuses a
verdict that belongs to other data (a stale file left by an earlier run)."""

import logging

import pandas as pd
import pytest

from stronglens_calibration.pipelines.shortcut_gates.nodes import enforce_data_gates
from stronglens_calibration.pipelines.train.nodes import _check_gate_verdict


def _report(passed: bool, enforce: bool) -> dict:
    gate = {"value": 0.62, "ci_low": 0.57, "ci_high": 0.67} if not passed else {}
    gate = gate or {"value": 0.5, "ci_low": 0.47, "ci_high": 0.53}
    verdict = "pass" if passed else "fail"
    gate |= {"threshold": 0.55, "passed": passed, "verdict": verdict, "point_passes": passed}
    return {
        "gates": {"gate_1_6_core_only": gate},
        "passed": passed,
        "verdict": verdict,
        "blocking": [] if passed else ["gate_1_6_core_only"],
        "inconclusive_rule": "stop_if_point_fails",
        "enforce": enforce,
        "n_positive": 10,
        "n_negative": 30,
    }


def _objects() -> pd.DataFrame:
    return pd.DataFrame({"object_id": [f"o{i}" for i in range(5)], "split": ["train"] * 5})


def test_a_passing_verdict_lets_training_start_on_the_same_data():
    objects = _objects()
    verdict = enforce_data_gates(_report(True, True), objects)
    assert verdict["passed"] and verdict["failed"] == []
    _check_gate_verdict(verdict, objects.sample(frac=1.0, random_state=1))  # row order free


def test_a_verdict_of_other_data_stops_training():
    verdict = enforce_data_gates(_report(True, True), _objects())
    resplit = _objects().assign(split=["train", "val", "train", "test", "train"])
    with pytest.raises(ValueError, match="another objects_split"):
        _check_gate_verdict(verdict, resplit)


def test_an_old_boolean_verdict_is_refused():
    with pytest.raises(ValueError, match="does not name the objects_split"):
        _check_gate_verdict(True, _objects())


def test_a_failed_gate_stops_the_run_or_is_logged_by_name(caplog):
    with pytest.raises(RuntimeError, match="gate_1_6_core_only"):
        enforce_data_gates(_report(False, True), _objects())
    verdict = enforce_data_gates(_report(False, False), _objects())
    assert verdict["failed"] == ["gate_1_6_core_only"] and not verdict["passed"]
    with caplog.at_level(logging.WARNING):
        _check_gate_verdict(verdict, _objects())
    assert "gate_1_6_core_only stop an enforced run" in caplog.text
