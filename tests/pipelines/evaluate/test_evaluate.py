"""The evaluate pipeline on a small mock survey: every report key, figures, the candidate
table, and no train or validation row behind a test metric."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.runner import SequentialRunner

from stronglens_calibration.datasets import TorchArtifactDataset
from stronglens_calibration.models.artifact import to_artifact
from stronglens_calibration.models.networks import build_model
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.pipelines import train
from stronglens_calibration.pipelines.evaluate import create_pipeline, nodes
from tests.conftest import project_catalog, run_pipelines, run_slice

REPORT_KEYS = {
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "tpr_at_fpr_1e-2",
    "tpr_at_fpr_1e-3",
    "tpr0",
    "tpr10",
    "recall_tier_a",
    "recall_tier_b",
    "ece_before",
    "ece_after",
    "temperature",
    "injection_brightness_ratio",
    "realism_probe_auc",
    "baseline",
}
FIGURES = (
    "roc_curve",
    "score_histograms",
    "reliability_diagram",
    "completeness_map",
    "candidate_gallery",
)


@pytest.fixture(scope="module")
def survey(tmp_path_factory, project_parameters):
    """A small survey through split, an untrained lens finder, evaluation parameters."""
    root = tmp_path_factory.mktemp("evaluate")
    params = copy.deepcopy(project_parameters)
    params["mock_survey"].update(
        n_positives=60, negatives_per_positive=2.0, n_workers=1, chunk_size=16
    )
    params["ingest"]["cutouts"]["n_workers"] = 1
    params["ingest"]["sampling"]["max_negative_shortfall"] = 1.0
    params["quality"]["n_workers"] = 1
    params["split"]["fractions"] = {"train": 0.5, "val": 0.25, "test": 0.25}
    params["split"]["tolerance"] = 0.2
    ev = params["evaluate"]
    ev.update(n_bootstrap=50, device="cpu")
    ev["injection"].update(
        per_cell=2, theta_e_bins_arcsec=[1.0, 2.0, 3.0], lensed_mag_r_bins=[20.0, 21.5, 23.0]
    )
    ev["realism"]["probe_folds"] = 2
    ev["gallery"]["n_per_row"] = 4
    # an untrained model is evaluated for the mechanics: its gate 1.7 fails (it calls
    # anything a lens at p ~ 0.5), which evaluation refuses unless told, as here
    ev["allow_failed_model_gate"] = True
    params["shortcut_gates"].update(enforce=False, n_bootstrap=50)
    params["shortcut_gates"]["permutation_null"].update(permutations=10, bootstrap=20)
    run_pipelines(["mock_survey", "ingest", "quality", "split", "shortcut_gates"], root, params)
    model = build_model(params["train"]["model"]["architecture"]).eval()
    pre = Preprocessing(clip=20.0, crop=48)
    TorchArtifactDataset(str(root / "06_models/lens_finder.pt")).save(
        to_artifact(
            model, {"architecture": "compact_resnet", "dropout": 0.0, "balance": "sampler"}, pre
        )
    )
    gate_1_7 = train.create_pipeline().from_nodes("measure_model_gate_node")
    SequentialRunner().run(gate_1_7, project_catalog(root, params))
    return root, params


@pytest.mark.slow
def test_evaluate_writes_the_report_figures_and_candidates(survey):
    root, params = survey
    run_pipelines(["evaluate"], root, params)
    report = json.loads((root / "08_reporting/evaluation_report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["auc_ci_low"] <= report["auc"] <= report["auc_ci_high"]
    for tier in ("recall_tier_a", "recall_tier_b"):
        assert set(report[tier]) == {"p_gt_0.3", "p_gt_0.5", "fpr_1e-2", "fpr_1e-3"}
        for r in report[tier].values():
            assert 0 <= r["k"] <= r["n"]
    objects = pd.read_parquet(root / "05_model_input/objects_split.parquet")
    test = objects[(objects["split"] == "test") & objects["cutout_ok"]]
    assert report["n_positive"] == (test["label"] == 1).sum()
    assert report["n_negative"] == (test["label"] == 0).sum()
    cats = set(test.loc[test["label"] == 0, "confuser_category"].replace("", "none"))
    assert set(report["fpr_by_confuser_category"]) == cats
    assert report["realism"]["realism_probe"]["n_real"] == report["n_positive"]
    assert "realism_verdict" in report
    for name in FIGURES:
        png = root / f"08_reporting/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    candidates = pd.read_csv(root / "08_reporting/test_candidates.csv")
    assert set(candidates["object_id"]) == set(test["object_id"])
    assert candidates["rank"].tolist() == list(range(1, len(candidates) + 1))
    assert candidates["logit"].is_monotonic_decreasing
    # survey probabilities are below the sample's: lenses are rarer in the survey
    assert (candidates["p_survey"] < candidates["p_calibrated"]).all()
    selection = pd.read_csv(root / "08_reporting/selection_function.csv")
    assert (selection["n"] == 2).all()  # per_cell in every (PSF, theta_E, magnitude) cell
    assert selection["completeness"].between(0, 1).all()
    assert (selection["ci_low"] <= selection["completeness"]).all()


class _RecordingShard:
    """A stamp shard that records every row read from it (integer or array indexing)."""

    def __init__(self, name: str, array: np.ndarray, log: set, poison: set | None = None) -> None:
        self.name, self.array, self.log, self.poison = name, array, log, poison or set()
        self.shape = array.shape

    def __getitem__(self, index):
        rows = index[0] if isinstance(index, tuple) else index
        rows = np.atleast_1d(np.asarray(rows))
        self.log.update((self.name, int(r)) for r in rows)
        out = np.array(self.array[index], dtype=np.float32, copy=True)
        bad = [i for i, r in enumerate(rows) if (self.name, int(r)) in self.poison]
        if bad:  # garbage where test metrics must not look
            if np.ndim(index[0] if isinstance(index, tuple) else index) == 0:
                out[...] = 1e3
            else:
                out[bad] = 1e3
        return out


def _recording_stamps(catalog, log, poison=None):
    return {
        name: (lambda name=name, load=load: _RecordingShard(name, load(), log, poison))
        for name, load in catalog.load("stamps").items()
    }


def _rows(objects, splits):
    from stronglens_calibration.stamps.store import shard_name

    sel = objects[objects["split"].isin(splits) & objects["cutout_ok"]]
    return {(shard_name(int(s)), int(o)) for s, o in zip(sel["shard"], sel["offset"], strict=True)}


@pytest.mark.slow
def test_test_metrics_read_no_train_or_validation_row(survey):
    root, params = survey
    catalog = project_catalog(Path(root), params)
    objects = catalog.load("objects_split")
    lens_finder = catalog.load("lens_finder")
    ev = params["evaluate"]
    test_rows, other_rows = _rows(objects, ["test"]), _rows(objects, ["train", "val"])

    log: set = set()
    clearance = nodes.clear_for_evaluation(
        lens_finder,
        objects,
        catalog.load("data_gates_passed"),
        catalog.load("model_gate_report"),
        ev,
    )
    val_scores = nodes.score_validation(
        lens_finder, objects, _recording_stamps(catalog, log), clearance, ev
    )
    assert log and log <= _rows(objects, ["val"])
    calibration = nodes.fit_calibration(val_scores, objects, ev)
    baseline_scores = nodes.fit_baseline(objects, catalog.load("stamps"), ev)
    # the temperature and every operating threshold are set without a test label:
    # flipping the test labels changes neither
    flipped = objects.copy()
    on_test = flipped["split"] == "test"
    flipped.loc[on_test, "label"] = 1 - flipped.loc[on_test, "label"]
    assert nodes.fit_calibration(val_scores, flipped, ev) == calibration
    assert {op["chosen_on"] for op in calibration["operating_points"].values()} == {"val"}

    def test_outputs(objects_in, poison=None):
        """Everything the test split feeds: the evaluate pipeline from its test scores and
        its injections on, on an in-memory catalog."""
        log: set = set()
        out = run_slice(
            create_pipeline().from_nodes("score_test_node", "plan_injections_node"),
            {
                "lens_finder": lens_finder,
                "objects_split": objects_in,
                "stamps": _recording_stamps(catalog, log, poison),
                "calibration": calibration,
                "baseline_scores": baseline_scores,
                "evaluation_clearance": clearance,
                "params:evaluate": ev,
            },
            [
                "test_metrics",
                "test_candidates",
                "injections",
                "realism",
                "candidate_gallery_figure",
            ],
        )
        return log, out["test_metrics"], out["test_candidates"], out["injections"], out["realism"]

    log, metrics, candidates, injections, realism = test_outputs(objects)
    assert log and log <= test_rows
    assert not log & other_rows
    # scramble everything train and validation hold: labels, tiers and pixels
    scrambled = objects.copy()
    other = scrambled["split"] != "test"
    scrambled.loc[other, "label"] = 1 - scrambled.loc[other, "label"]
    scrambled.loc[other, "tier"] = "A"
    _, metrics2, candidates2, injections2, realism2 = test_outputs(scrambled, poison=other_rows)
    assert json.dumps(metrics2, sort_keys=True) == json.dumps(metrics, sort_keys=True)
    pd.testing.assert_frame_equal(candidates2, candidates)
    pd.testing.assert_frame_equal(injections2, injections)
    assert realism2 == realism


def test_a_bad_parameter_is_named(survey):
    root, params = survey
    catalog = project_catalog(Path(root), params)
    ev = copy.deepcopy(params["evaluate"])
    ev["survey_prevalence"] = 2.0
    scores = pd.DataFrame({"logit": [0.1, -1.0], "label": [1, 0], "scored": True})
    with pytest.raises(ValueError, match="evaluate.survey_prevalence"):
        nodes.fit_calibration(scores, catalog.load("objects_split"), ev)


class _Cells(HTMLParser):
    """Every element of the run report that carries ``data-key`` or ``data-missing``."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.missing: list[str] = []
        self._key: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-missing" in attrs:
            self.missing.append(attrs["data-missing"])
        if "data-key" in attrs:
            self._key, self._text = attrs["data-key"], []

    def handle_data(self, data):
        if self._key is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._key is not None and tag in ("td", "p"):
            self.cells.append((self._key, "".join(self._text)))
            self._key = None


def _shows_number(text: str, raw: float) -> bool:
    import math

    if math.isnan(raw):
        return text == "n/a"
    plain = text.replace(",", "")
    if "e" in plain or "." not in plain:
        return math.isclose(float(plain), raw, rel_tol=0.06, abs_tol=1e-12)
    return abs(float(plain) - raw) <= 0.5 * 10 ** -len(plain.split(".")[1]) + 1e-12


def _shows(text: str, raw) -> bool:
    """Whether a printed cell shows ``raw`` (to the precision it prints)."""
    if raw is None:
        return text == "-"
    if isinstance(raw, bool):
        return text == ("yes" if raw else "no")
    if isinstance(raw, int | float):
        return _shows_number(text, float(raw))
    if isinstance(raw, list):
        parts = text.strip("[]").split(", ")
        return len(parts) == len(raw) and all(_shows(t, r) for t, r in zip(parts, raw, strict=True))
    return text == str(raw)


@pytest.mark.slow
def test_the_run_report_shows_every_section_as_its_sources_say(survey):
    """The page renders from the pipelines' outputs; every value it prints is the value of
    the field it names in its source report; missing sources are listed as not run."""
    from stronglens_calibration.reporting.run_report import (
        RunInfo,
        lookup,
        render_run_report,
        summary_lines,
    )
    from stronglens_calibration.tracking.run_report_hook import collect_inputs

    root, params = survey
    params = copy.deepcopy(params)
    params["shortcut_gates"].update(enforce=False, n_bootstrap=50)
    params["shortcut_gates"]["permutation_null"].update(permutations=10, bootstrap=20)
    run_pipelines(["shortcut_gates"], root, params)
    if not (root / "08_reporting/evaluation_report.json").exists():
        run_pipelines(["evaluate"], root, params)
    inputs = collect_inputs(project_catalog(root, params), {"gate_report"})
    assert {"ingest_report", "quality_report", "split_report", "gate_report"} <= set(inputs.reports)
    assert "evaluation_report" in inputs.reports and "mock_realism" in inputs.tables
    assert inputs.this_run == {"gate_report"}
    assert {"gate_diagnostics", "roc_curve", "split_sky_map"} <= set(inputs.figures)
    info = RunInfo("2026-01-01 00:00:00 UTC", ["shortcut_gates"], "completed")
    page = render_run_report(info, inputs)

    parser = _Cells()
    parser.feed(page)
    assert set(parser.missing) == {"training_history", "scan_report"}
    checked: dict[str, int] = {}
    for key, text in parser.cells:
        source, path = key.split(":", 1)
        if source == "mock_realism":
            table = inputs.tables["mock_realism"]
            assert text.startswith(f"{int(table['median_inside'].sum())} of {len(table)} ")
        else:
            report = inputs.reports[source]

            def field(path, report=report):  # a field the source lacks is printed as "-"
                try:
                    return lookup(report, path)
                except KeyError:
                    return None

            if "|" in path:
                low, high = (field(p) for p in path.split("|"))
                if low is None or high is None:
                    assert text == "-", (key, text)
                else:
                    lo_text, hi_text = text.split(" to ")
                    assert _shows(lo_text, low) and _shows(hi_text, high), (key, text)
            else:
                assert _shows(text, field(path)), (key, text)
        checked[source] = checked.get(source, 0) + 1
    gates = inputs.reports["gate_report"]["gates"]
    shown = {k for k, _ in parser.cells}
    for name in gates:  # every gate with its value, interval and verdict
        for field in ("value", "verdict", "threshold"):
            assert f"gate_report:gates.{name}.{field}" in shown
        assert f"gate_report:gates.{name}.ci_low|gates.{name}.ci_high" in shown
    for name in inputs.reports["evaluation_report"]["operating_points"]:
        assert f"evaluation_report:operating_points.{name}.tpr" in shown
    for reason in inputs.reports["quality_report"]["per_reason"]:
        assert f"quality_report:per_reason.{reason}" in shown
    assert all(checked.get(s, 0) >= 5 for s in ("ingest_report", "quality_report", "split_report"))
    lines = summary_lines(inputs)
    assert any(line.startswith("data gates: ") for line in lines)
    assert any(line.startswith("test: AUC ") for line in lines)

    # a table and its report written by different runs (one stopped between the two) are
    # named as such at the top of the summary
    assert inputs.stale_pairs == {}
    table = root / "05_model_input/objects_split.parquet"
    original = table.read_bytes()
    try:
        pd.read_parquet(table).iloc[1:].to_parquet(table)
        stale = collect_inputs(project_catalog(root, params), set())
    finally:
        table.write_bytes(original)
    assert stale.stale_pairs == {"split_report": "objects_split"}
    assert summary_lines(stale)[0].startswith("INCONSISTENT: split_report.json describes")
