"""The scan pipeline on a mock region with lenses hidden among its galaxies: a trained
finder ranks them far above random with probabilities consistent with what it finds; a
killed scan resumes to the identical table; Spark scores as the pandas engine does; bad
models and empty regions are named."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.sky.matching import nearest_neighbour
from tests.conftest import copy_project, project_catalog, run_pipelines

pytestmark = pytest.mark.slow

#: Hidden lenses per galaxy of the test's scan region (about 50 in 2,500: the recall in
#: the top 1 % is then measured on enough lenses to be stable; the demo hides 1 in 1,000).
LENS_RATE = 0.02


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, project_parameters):
    """A small survey trained and evaluated, then its scan region scanned."""
    root = tmp_path_factory.mktemp("scan")
    params = copy.deepcopy(project_parameters)
    m = params["mock_survey"]
    m.update(n_positives=250, negatives_per_positive=3.0, n_workers=2, chunk_size=32)
    m["scan_region"].update(n_galaxies=2500, lens_rate=LENS_RATE)
    params["ingest"]["cutouts"]["n_workers"] = 1
    params["ingest"]["sampling"]["max_negative_shortfall"] = 1.0
    params["quality"]["n_workers"] = 1
    params["split"]["tolerance"] = 0.2
    params["shortcut_gates"].update(enforce=False, n_bootstrap=50)
    # all 25 epochs, the best kept: with 250 lenses the validation AUC is noisy, and early
    # stopping left one build of the numerical libraries with a model from epoch 5
    params["train"].update(epochs=25, patience=25, num_workers=0)
    params["train"]["checkpoint_dir"] = str(root / "06_models/checkpoints")
    ev = params["evaluate"]
    ev.update(n_bootstrap=50, device="cpu")
    # a model of this size can fail gate 1.7 (the first gate failed it at 0.53, interval
    # 0.41-0.66 against 0.3); the scan's mechanics are under test, so say so
    ev["allow_failed_model_gate"] = True
    ev["injection"].update(per_cell=1)
    ev["realism"]["probe_folds"] = 2
    params["scan"].update(shard_size=256, survey_prevalence=LENS_RATE, n_candidates=50)
    run_pipelines(
        ["mock_survey", "ingest", "quality", "split", "shortcut_gates", "train", "evaluate"],
        root,
        params,
    )
    run_pipelines(["scan"], root, params)
    return root, params


def _scores(root: Path) -> pd.DataFrame:
    parts = sorted((root / "07_model_output/scan_scores").glob("*/*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _hidden(root: Path) -> pd.DataFrame:
    truth = pd.read_parquet(root / "01_raw/mock_truth.parquet")
    return truth[(truth["region"] == "scan") & (truth["kind"] == "lens")]


def test_the_scan_ranks_hidden_lenses_far_above_random(scanned):
    root, _ = scanned
    scores = _scores(root)
    scored = scores[scores["scored"]].sort_values("logit", ascending=False).reset_index(drop=True)
    lenses = _hidden(root)
    idx, sep = nearest_neighbour(
        lenses["ra"].to_numpy(),
        lenses["dec"].to_numpy(),
        scored["ra"].to_numpy(),
        scored["dec"].to_numpy(),
    )
    found = sep < 0.5  # a hidden lens that passed the cuts and was scored
    assert found.sum() >= 0.7 * len(lenses)
    top = int(np.ceil(0.01 * len(scored)))
    recall = (idx[found] < top).sum() / found.sum()
    base_rate = top / len(scored)
    print(
        f"recall in the top 1 % ({top} of {len(scored)}): {recall:.2f} ({recall / base_rate:.0f}x)"
    )
    assert recall >= 10 * base_rate
    # nothing lost without a word: every object is scored or says why not
    assert ((scores["scored"]) | (scores["scan_flags"] != "")).all()


def test_candidate_probabilities_are_consistent_with_the_lenses_found(scanned):
    root, _ = scanned
    import json

    report = json.loads((root / "08_reporting/scan_report.json").read_text())
    candidates = pd.read_csv(root / "08_reporting/scan_candidates.csv")
    lenses = _hidden(root)
    _, sep = nearest_neighbour(
        candidates["ra"].to_numpy(),
        candidates["dec"].to_numpy(),
        lenses["ra"].to_numpy(),
        lenses["dec"].to_numpy(),
    )
    k = int((sep < 0.5).sum())
    e = report["expected_lenses_among_candidates"]
    print(f"top {len(candidates)}: {k} hidden lenses, expected {e}")
    assert e["ci_low"] <= k <= e["ci_high"]
    assert candidates["viewer_url"].str.startswith("https://www.legacysurvey.org/viewer?").all()
    page = (root / "08_reporting/scan_inspection.html").read_text()
    assert page.count('type="radio"') == 4 * len(candidates)


def _start_scan(project: Path, extra: str = "") -> subprocess.Popen:
    kedro = Path(sys.executable).with_name("kedro")
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true", MPLBACKEND="Agg")
    args = (
        f"scan.shard_size=64,scan.survey_prevalence={LENS_RATE},"
        "ingest.sampling.max_negative_shortfall=1.0"
    )
    return subprocess.Popen(
        [str(kedro), "run", "--pipelines", "scan", "--params", args + extra],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _project_with_data(scanned, tmp_path: Path, name: str) -> Path:
    import shutil

    root, _ = scanned
    project = copy_project(tmp_path / name)
    shutil.copytree(
        root, project / "data", ignore=shutil.ignore_patterns("scan_scores", "scan_*.csv")
    )
    return project


def test_a_killed_scan_resumes_to_the_identical_table(scanned, tmp_path):
    whole = _project_with_data(scanned, tmp_path, "whole")
    assert _start_scan(whole).wait(timeout=600) == 0
    killed = _project_with_data(scanned, tmp_path, "killed")
    proc = _start_scan(killed)
    shards = killed / "data/07_model_output/scan_scores"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(shards.glob("*/*.parquet"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # as an out-of-memory killer or a pre-empted node would
    proc.wait()
    done = len(list(shards.glob("*/*.parquet")))
    assert 3 <= done < len(list((whole / "data/07_model_output/scan_scores").glob("*/*.parquet")))
    assert _start_scan(killed).wait(timeout=600) == 0
    expected, resumed = _scores(whole / "data"), _scores(killed / "data")
    pd.testing.assert_frame_equal(resumed, expected)
    assert not list(shards.glob("*/*.partial"))


def test_spark_scores_as_the_pandas_engine_does(scanned, spark):
    from stronglens_calibration.pipelines.scan.nodes import score_scan

    root, params = scanned
    catalog = project_catalog(root, params)
    inputs = [catalog.load(n) for n in ("scan_sample", "scan_cutouts", "coadd_bricks")]
    model, calibration = catalog.load("lens_finder"), catalog.load("calibration")
    sample = inputs[0]
    first = {k: sample[k] for k in sorted(sample)[:1]}
    outputs = {}
    for engine in ("pandas", "spark"):
        scan = copy.deepcopy(params["scan"]) | {"engine": engine, "shard_size": 200}
        parts = {}
        for step in score_scan(first, *inputs[1:], {}, model, calibration, {}, scan):
            parts.update(step)
        outputs[engine] = pd.concat([parts[k] for k in sorted(parts)], ignore_index=True)
    assert len(outputs["pandas"]) > 200  # more than one shard
    pd.testing.assert_frame_equal(outputs["spark"], outputs["pandas"])


def test_the_scan_says_how_to_start_python_where_numpy_sorts_slowly(scanned, monkeypatch, caplog):
    """Where numpy's sorts are slow (its AVX-512 kernels on AMD Zen 4: detection in
    tests/test_sort_dispatch.py), the scan says so before it scores."""
    import logging

    from stronglens_calibration import sort_dispatch
    from stronglens_calibration.pipelines.scan.nodes import score_scan

    root, params = scanned
    catalog = project_catalog(root, params)
    sample = catalog.load("scan_sample")
    first = sorted(sample)[0]
    rows = sample[first]().head(8)
    inputs = [catalog.load(n) for n in ("scan_cutouts", "coadd_bricks")]
    model, calibration = catalog.load("lens_finder"), catalog.load("calibration")
    advice = 'start Python with NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL"'
    for said in (advice, None):
        monkeypatch.setattr(sort_dispatch, "sort_dispatch_advice", lambda said=said: said)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            steps = list(
                score_scan(
                    {first: lambda: rows}, *inputs, {}, model, calibration, {}, params["scan"]
                )
            )
        assert sum(len(s) for step in steps for s in step.values()) == len(rows)
        warned = [
            r.getMessage() for r in caplog.records if "NPY_DISABLE_CPU_FEATURES" in r.getMessage()
        ]
        assert warned == ([f"scan: {advice}"] if said else [])


def test_bad_models_and_empty_regions_are_named(scanned, tmp_path):
    from stronglens_calibration.pipelines.scan.nodes import check_scan_model, select_scan_sample

    root, params = scanned
    catalog = project_catalog(root, params)
    model = catalog.load("lens_finder")
    scan = params["scan"]
    with pytest.raises(ValueError, match="not a lens_finder artifact"):
        check_scan_model({"weights": 1}, scan)
    big = copy.deepcopy(model)
    big["preprocessing"] = dict(big["preprocessing"], crop=128)
    with pytest.raises(ValueError, match="crops 128 px.*101 px"):
        check_scan_model(big, scan)
    with pytest.raises(ValueError, match="holds no sweep file"):
        list(select_scan_sample({}, catalog.load("lens_candidates"), params["ingest"], scan))
    # a region whose rows all fail the cuts
    from tests.producers import sweep_rows, write_sweep

    path = write_sweep(
        tmp_path / "sweep-030m005-040p000.fits",
        sweep_rows(np.array([31.0]), np.array([-3.0]), object_type="PSF"),
    )
    from stronglens_calibration.datasets import FITSTableDataset

    sweeps = {"sweep-030m005-040p000": FITSTableDataset(str(path)).load}
    with pytest.raises(ValueError, match="no sweep row of the scan region passes the cuts"):
        list(select_scan_sample(sweeps, catalog.load("lens_candidates"), params["ingest"], scan))


def test_objects_without_a_file_come_from_the_cutout_service(scanned, tmp_path):
    """The scan uses ingest's readers: a galaxy whose file is missing is fetched from the
    service (a local stand-in here) and scored."""
    import threading
    from http.server import ThreadingHTTPServer

    from stronglens_calibration.pipelines.scan.nodes import score_scan
    from tests.stamps.test_cutout_service import _Service

    root, params = scanned
    catalog = project_catalog(root, params)
    sample = catalog.load("scan_sample")
    first = sorted(sample)[0]
    rows = sample[first]().head(8)
    cutouts = catalog.load("scan_cutouts")
    from stronglens_calibration.stamps.cutout_index import CutoutIndex

    located, _ = CutoutIndex.from_partitions(cutouts, "npz").locate(
        rows["ra"].to_numpy(), rows["dec"].to_numpy(), 1.0
    )
    gone = located.at[0, "cutout_file"]
    kept = {k: v for k, v in cutouts.items() if k != gone}
    _Service.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        scan = copy.deepcopy(params["scan"])
        scan["cutout_service"].update(
            enabled=True,
            url=f"http://127.0.0.1:{server.server_address[1]}/fits-cutout",
            backoff_seconds=0.01,
            cache_dir=str(tmp_path / "fetched"),
        )
        steps = list(
            score_scan(
                {first: lambda: rows},
                kept,
                catalog.load("coadd_bricks"),
                {},
                catalog.load("lens_finder"),
                catalog.load("calibration"),
                {},
                scan,
            )
        )
    finally:
        server.shutdown()
        server.server_close()
    scored = next(iter(steps[0].values()))
    assert scored.at[0, "cutout_origin"] == "service"
    assert bool(scored.at[0, "scored"])
    assert len(list((tmp_path / "fetched").glob("*.fits"))) == 1
