"""Parameters are checked before any node runs: an unknown key is refused with the
nearest valid one, a bad value names its dotted path."""

from __future__ import annotations

import copy

import pytest

from stronglens_calibration.parameter_check import ParameterError, check_parameters
from tests.conftest import copy_project, kedro_cli


def test_a_typo_is_refused_with_the_nearest_key(project_parameters):
    params = copy.deepcopy(project_parameters)
    with pytest.raises(
        ParameterError, match=r"'split.matching.methd' \(did you mean 'split.matching.method'\?\)"
    ):
        check_parameters(params, {"split": {"matching": {"methd": "none"}}}, params)
    with pytest.raises(ParameterError, match=r"'train.epoch' \(did you mean 'train.epochs'\?\)"):
        check_parameters(params, {"train.epoch": 2}, params)
    check_parameters(
        params, {"ingest": {"limit": 50}, "data_root": "s3://b"}, params | {"data_root": "data"}
    )


def test_a_bad_value_names_its_dotted_path(project_parameters):
    params = copy.deepcopy(project_parameters)
    params["split"]["matching"]["method"] = "magic"
    with pytest.raises(ParameterError, match="split.matching.method"):
        check_parameters(params, {}, project_parameters)
    params = copy.deepcopy(project_parameters)
    params["evaluate"]["survey_prevalence"] = 2.0
    with pytest.raises(ParameterError, match="evaluate.survey_prevalence"):
        check_parameters(params, {}, project_parameters)


@pytest.mark.parametrize(
    ("section", "where", "key", "nearest"),
    [
        ("split", ("matching",), "n_bin", "split.matching.n_bins"),
        ("quality", ("no_coverage",), "max_fractions", "quality.no_coverage.max_fraction"),
        ("train", (), "epoch", "train.epochs"),
        ("evaluate", ("realism",), "probe_fold", "evaluate.realism.probe_folds"),
        ("shortcut_gates", ("arc_suppression",), "detect_sigmas", None),
    ],
)
def test_an_unknown_key_in_the_configuration_is_refused(
    project_parameters, section, where, key, nearest
):
    """A typo in a parameters file (not only on the command line) is refused where the
    section has a typed schema, with the nearest valid key."""
    params = copy.deepcopy(project_parameters)
    node = params[section]
    for part in where:
        node = node[part]
    node[key] = 1
    dotted = ".".join((section, *where, key))
    match = f"'{dotted}' is not a known key" + (
        rf" \(did you mean '{nearest}'\?\)" if nearest else ""
    )
    with pytest.raises(ParameterError, match=match):
        check_parameters(params, {}, project_parameters)


def test_a_section_no_pipeline_reads_is_refused(project_parameters):
    params = copy.deepcopy(project_parameters)
    params["trian"] = {"epochs": 2}
    with pytest.raises(ParameterError, match=r"'trian' \(did you mean 'train'\?\)"):
        check_parameters(params, {}, project_parameters)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("train", "epochs", "40", "'train.epochs' should be a valid integer, got '40'"),
        ("train", "learning_rate", True, "'train.learning_rate' should be a valid number"),
        ("split", "tolerance", 1.5, "'split.tolerance' should be less than or equal to 1"),
        ("evaluate", "n_bootstrap", 5, "'evaluate.n_bootstrap' should be greater than or equal"),
    ],
)
def test_values_are_typed_strictly(project_parameters, section, key, value, message):
    """YAML tells "40" from 40 and true from 1.0: so does the schema."""
    params = copy.deepcopy(project_parameters)
    params[section][key] = value
    with pytest.raises(ParameterError, match=message):
        check_parameters(params, {}, project_parameters)


def test_a_device_this_machine_lacks_is_refused_by_name(project_parameters):
    """``train.device=cuda:0`` on a machine without CUDA stops before the run, naming the
    parameter (torch alone would fail mid-run with a bare AssertionError)."""
    import torch

    params = copy.deepcopy(project_parameters)
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    params["train"]["device"] = f"cuda:{count}"  # one more than there are
    with pytest.raises(ParameterError, match="'train.device'.*cuda"):
        check_parameters(params, {}, project_parameters)
    params = copy.deepcopy(project_parameters)
    params["scan"]["device"] = "gpu0"
    with pytest.raises(ParameterError, match="'scan.device'.*torch device name"):
        check_parameters(params, {}, project_parameters)


@pytest.mark.slow
def test_kedro_run_refuses_a_typo_before_any_node(tmp_path):
    project = copy_project(tmp_path / "project")
    result = kedro_cli(
        project, "run", "--pipelines", "split", "--params", "split.matching.methd=none"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "did you mean 'split.matching.method'" in output
    assert "Running node" not in output
