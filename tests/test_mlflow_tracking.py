"""Two `kedro run`s with different parameters are both in MLflow, with their gate metrics,
parameters and tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, copy_project, kedro_cli, store_shards

SMALL = (
    "mock_survey.n_positives=60,mock_survey.n_workers=1,ingest.cutouts.n_workers=1,"
    "mock_survey.scan_region.n_galaxies=40,"
    "quality.n_workers=1,shortcut_gates.enforce=false,shortcut_gates.n_bootstrap=50,"
    "shortcut_gates.permutation_null.permutations=10,shortcut_gates.permutation_null.bootstrap=20,"
    "ingest.sampling.max_negative_shortfall=1.0"
)
FLOW = "ingest,quality,split,shortcut_gates"


def _kedro(project: Path, *args: str) -> None:
    result = kedro_cli(project, *args)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.slow
def test_two_runs_are_compared_on_their_gate_metrics(tmp_path):
    import mlflow

    project = copy_project(tmp_path / "project")
    for layer in ("01_raw", "08_reporting"):
        (project / "data" / layer).mkdir(parents=True)
    _kedro(project, "run", "--pipeline", "mock_survey", "--params", SMALL)  # older option
    _kedro(project, "run", "--pipelines", FLOW, "--params", SMALL + ",split.matching.method=none")
    _kedro(
        project, "run", "--pipelines", FLOW, "--params", SMALL + ",split.matching.method=reweight"
    )

    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("stronglens_calibration")
    runs = client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])
    flow_runs = [r for r in runs if "gate_1_6_core_auc" in r.data.metrics]
    assert len(flow_runs) == 2
    methods = [r.data.params.get("split.matching.method") for r in flow_runs]
    assert methods == ["none", "reweight"]
    for run in flow_runs:
        for metric in (
            "gate_1_5_max_abs_cohens_d",
            "gate_1_6_core_auc",
            "gate_1_8_core_ratio",
            "gate_radial_auc",
            "gates_passed",
        ):
            assert metric in run.data.metrics, metric
        assert run.data.tags["data_root"] == "data"
        assert "git_commit" in run.data.tags
        assert len(run.data.tags["fingerprint.objects_split"]) == 16
        figures = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "figures")}
        reports = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "reports")}
        assert {"split_sky_map.png", "gate_diagnostics.png"} <= figures
        assert {"gate_report.json", "split_report.json", "quality_report.json"} <= reports
        # the run report: an artifact, and its summary as the run's description
        assert "run_report.html" in reports
        assert "data gates: " in run.data.tags["mlflow.note.content"]
        for gate in ("gate_1_5_normalisation", "gate_1_6_core_only", "gate_1_8_core_brightness"):
            assert run.data.tags[f"gate.{gate}"] in ("pass", "inconclusive", "fail")
        assert run.data.metrics["gate_1_6_core_auc_verdict"] in (-1.0, 0.0, 1.0)
    page = (project / "data/08_reporting/run_report.html").read_text()
    assert "Shortcut gates (before training)" in page and "status" in page
    # the same data, split the same way: the tables differ only in sample_weight
    a, b = (r.data.tags["fingerprint.objects_split"] for r in flow_runs)
    assert a != b
    assert not any(
        "secret" in k.lower() or "credential" in k.lower() for r in flow_runs for k in r.data.params
    )

    # evaluate (with an untrained model: the tracking, not the model, is under test); its
    # gate 1.7 is measured first, then recorded as failed (an untrained network scores
    # lenses and non-lenses alike, so it would not fail by itself): evaluation must be
    # told to go on
    _plant_untrained_model(project / "data/06_models/lens_finder.pt")
    _kedro(
        project,
        "run",
        "--pipelines",
        "train",
        "--from-nodes",
        "measure_model_gate_node",
        "--params",
        SMALL,
    )
    _record_gate_1_7_as_failed(project / "data/08_reporting/model_gate_report.json")
    refused = kedro_cli(project, "run", "--pipelines", "evaluate", "--params", EVALUATE_SMALL)
    assert refused.returncode != 0 and "gate 1.7 failed" in refused.stdout + refused.stderr
    _kedro(
        project,
        "run",
        "--pipelines",
        "evaluate",
        "--params",
        EVALUATE_SMALL + ",evaluate.allow_failed_model_gate=true",
    )
    run = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"])[0]
    assert run.data.tags["evaluate.override"] == "model_gate_1_7_failed"
    for metric in ("evaluate.auc", "evaluate.tpr0", "evaluate.temperature", "evaluate.ece_after"):
        assert metric in run.data.metrics, metric
    figures = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "figures")}
    assert {"roc_curve.png", "reliability_diagram.png", "completeness_map.png"} <= figures
    reports = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "reports")}
    assert {"evaluation_report.json", "test_candidates.csv", "selection_function.csv"} <= reports
    _the_registered_model_reproduces_the_candidates(client, project, run)
    _the_notebook_walks_through_the_results(project)


def _the_notebook_walks_through_the_results(project: Path) -> None:
    """notebooks/walkthrough.ipynb runs headless on these outputs: every cell executes,
    and it prints the numbers of the reports it reads."""
    import json

    import nbformat

    from stronglens_calibration.notebook import execute_notebook

    executed = execute_notebook(project / "notebooks/walkthrough.ipynb", timeout_s=300)
    text = "".join(
        output.get("text", "")
        for cell in nbformat.read(executed, as_version=4).cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    report = json.loads((project / "data/08_reporting/evaluation_report.json").read_text())
    assert f"test AUC {report['auc']:.3f}" in text
    gates = json.loads((project / "data/08_reporting/gate_report.json").read_text())
    assert f"overall: {gates['verdict']}" in text
    assert "training_history has not been written yet" in text  # an untrained model here
    assert not (project / "notebooks/mlflow.db").exists()  # it ran in the project root


def _the_registered_model_reproduces_the_candidates(client, project: Path, run) -> None:
    """The evaluation registered the lens finder as an MLflow pyfunc model, tagged with
    the gate verdicts; loaded by its registry name it gives the evaluation's
    ``p_calibrated`` from raw stamps (preprocessing and calibration bundled)."""
    import mlflow
    import numpy as np
    import pandas as pd

    from stronglens_calibration.stamps.reading import read_stamps
    from stronglens_calibration.tracking.lens_finder_model import REGISTERED_NAME

    versions = client.search_model_versions(f"name='{REGISTERED_NAME}'")
    assert versions, "no registered lens finder"
    latest = max(versions, key=lambda v: int(v.version))
    assert latest.run_id == run.info.run_id
    assert latest.tags["gate.gate_1_6_core_only"] in ("pass", "inconclusive", "fail")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_NAME}/{latest.version}")
    assert model.metadata.signature is not None
    data = project / "data"
    objects = pd.read_parquet(data / "05_model_input/objects_split.parquet")
    test = objects[objects["cutout_ok"] & (objects["split"] == "test")].head(4)
    loaders = {
        name: (lambda p=p: np.load(p, mmap_mode="r")) for name, p in store_shards(data).items()
    }
    out = model.predict(read_stamps(test, loaders))
    candidates = pd.read_csv(data / "08_reporting/test_candidates.csv").set_index("object_id")
    expected = candidates.loc[test["object_id"], "p_calibrated"].to_numpy()
    np.testing.assert_allclose(out["p_calibrated"].to_numpy(), expected, rtol=1e-5, atol=1e-7)


EVALUATE_SMALL = (
    "evaluate.n_bootstrap=50,evaluate.injection.per_cell=1,evaluate.realism.probe_folds=2,"
    "evaluate.device=cpu"
)


def _record_gate_1_7_as_failed(path: Path) -> None:
    """Mark the measured gate 1.7 report as failed (its fingerprints stay those of the
    model and table it was measured on)."""
    import json

    report = json.loads(path.read_text())
    report["verdict"] = report["gate_1_7_arc_suppressed"]["verdict"] = "fail"
    path.write_text(json.dumps(report))


def _plant_untrained_model(path: Path) -> None:
    from stronglens_calibration.datasets import TorchArtifactDataset
    from stronglens_calibration.models.artifact import to_artifact
    from stronglens_calibration.models.networks import build_model
    from stronglens_calibration.models.preprocessing import Preprocessing

    config = {"architecture": "compact_resnet", "dropout": 0.0, "balance": "sampler"}
    artifact = to_artifact(build_model("compact_resnet"), config, Preprocessing(20.0, 48))
    TorchArtifactDataset(str(path)).save(artifact)


def test_data_root_tag_follows_the_resolved_configuration():
    """The ``data_root`` tag is what the catalog resolves: the environment's globals
    (the bucket under ``--env s3``), or ``--params data_root=...`` when given."""
    from stronglens_calibration.config_loader import ProjectConfigLoader
    from stronglens_calibration.tracking.hooks import resolved_data_root

    conf = str(PROJECT_ROOT / "conf")
    base = ProjectConfigLoader(conf_source=conf, base_env="base", default_run_env="local")
    s3 = ProjectConfigLoader(conf_source=conf, base_env="base", default_run_env="local", env="s3")
    assert resolved_data_root(None, base["globals"]) == "data"
    assert resolved_data_root({}, s3["globals"]).startswith("s3://")
    assert resolved_data_root({"data_root": "s3a://b/p"}, s3["globals"]) == "s3a://b/p"
