"""The data-gate verdict names the table it was measured on, and training refuses a
verdict that belongs to other data (a stale file left by an earlier run)."""

import logging

import pandas as pd
import pytest

from stronglens_calibration.pipelines.shortcut_gates.clearance import check_data_verdict
from stronglens_calibration.pipelines.shortcut_gates.nodes import enforce_data_gates


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
        "network_clip_sigma": 20.0,
    }


def _objects() -> pd.DataFrame:
    return pd.DataFrame({"object_id": [f"o{i}" for i in range(5)], "split": ["train"] * 5})


def test_a_passing_verdict_lets_training_start_on_the_same_data():
    objects = _objects()
    verdict = enforce_data_gates(_report(True, True), objects)
    assert verdict["passed"] and verdict["failed"] == []
    check_data_verdict(verdict, objects.sample(frac=1.0, random_state=1), "training")  # any order


def test_a_verdict_of_other_data_stops_training():
    verdict = enforce_data_gates(_report(True, True), _objects())
    resplit = _objects().assign(split=["train", "val", "train", "test", "train"])
    with pytest.raises(ValueError, match="another objects_split"):
        check_data_verdict(verdict, resplit, "training")


def test_training_refuses_a_verdict_measured_at_another_clip():
    """The clipped-core gate saw the input as the network would at 20 sigma: a training
    run clipping elsewhere would feed the network what no gate looked at."""
    objects = _objects()
    verdict = enforce_data_gates(_report(True, True), objects)
    check_data_verdict(verdict, objects, "training", 20.0)
    with pytest.raises(ValueError, match="clipped at 20.0 sky sigmas, training would clip at 10"):
        check_data_verdict(verdict, objects, "training", 10.0)


def test_an_old_boolean_verdict_is_refused():
    with pytest.raises(ValueError, match="does not name the objects_split"):
        check_data_verdict(True, _objects(), "training")


def test_a_failed_gate_stops_the_run_or_is_logged_by_name(caplog):
    with pytest.raises(RuntimeError, match="gate_1_6_core_only"):
        enforce_data_gates(_report(False, True), _objects())
    verdict = enforce_data_gates(_report(False, False), _objects())
    assert verdict["failed"] == ["gate_1_6_core_only"] and not verdict["passed"]
    with caplog.at_level(logging.WARNING):
        check_data_verdict(verdict, _objects(), "training")
    assert "gate_1_6_core_only stop an enforced run" in caplog.text


def _model_gate(verdict: str, lens_finder: dict, objects: pd.DataFrame) -> dict:
    from stronglens_calibration.scan.scoring import model_fingerprint
    from stronglens_calibration.tracking.hooks import table_fingerprint

    return {
        "verdict": verdict,
        "lens_finder": model_fingerprint(lens_finder, {}),
        "objects_split": table_fingerprint(objects),
    }


def test_evaluation_refuses_a_model_whose_gate_1_7_failed_unless_told():
    """Promise: a model that still finds lenses with the arcs suppressed is not evaluated
    (its test figures would not describe a lens finder) unless the run says so; and a
    gate-1.7 report of another model or table is refused."""
    from stronglens_calibration.models.artifact import to_artifact
    from stronglens_calibration.models.networks import build_model
    from stronglens_calibration.models.preprocessing import Preprocessing
    from stronglens_calibration.pipelines.shortcut_gates.clearance import check_model_gate

    model = to_artifact(build_model("compact_resnet"), {}, Preprocessing(20.0, 64))
    other = to_artifact(build_model("compact_resnet"), {"seed": 1}, Preprocessing(20.0, 64))
    objects = _objects()
    ok = check_model_gate(_model_gate("inconclusive", model, objects), model, objects, False)
    assert ok == {"model_gate_verdict": "inconclusive", "override": False}
    failed = _model_gate("fail", model, objects)
    with pytest.raises(ValueError, match="gate 1.7 failed.*allow_failed_model_gate=true"):
        check_model_gate(failed, model, objects, False)
    assert check_model_gate(failed, model, objects, True)["override"] is True
    with pytest.raises(ValueError, match="another model or objects_split"):
        check_model_gate(_model_gate("pass", other, objects), model, objects, False)
    with pytest.raises(ValueError, match="another model or objects_split"):
        check_model_gate(_model_gate("pass", model, objects.head(3)), model, objects, False)
    with pytest.raises(ValueError, match="older version"):
        check_model_gate({"verdict": "pass"}, model, objects, False)
