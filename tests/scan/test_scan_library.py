"""The scan library: parent sample and known lenses, per-shard scoring with reasons,
streaming top-N, the inspection page and its grades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from stronglens_calibration.catalogues.sweeps import Cuts
from stronglens_calibration.models.networks import build_model
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.scan.inspection import (
    expected_lenses,
    inspection_page,
    read_grades,
    top_candidates,
    viewer_url,
)
from stronglens_calibration.scan.sample import (
    flag_known_lenses,
    positions_sample,
    sweep_file_sample,
)
from stronglens_calibration.scan.scoring import ScoringSettings, score_shard
from stronglens_calibration.stamps.shard_reader import CutoutSources
from stronglens_calibration.stamps.store import StampChecks
from stronglens_calibration.storage.fits_table import FITSTable
from tests.producers import galaxy_planes, service_fits, sweep_rows, write_sweep

CUTS = Cuts(
    types=("DEV", "SER", "EXP", "REX"),
    reject_maskbits=(1, 16),
    min_nobs={"g": 1, "r": 1, "z": 1},
    mag_z=(16.0, 20.5),
    dec_deg=(-70.0, 84.0),
    photsys=("S",),
)
SETTINGS = ScoringSettings(101, 1.5, (32.0, 45.0), 5.0, 3, 0.25, 16, 1e-3)
CHECKS = StampChecks(1.0, 0.262, 0.01)
CALIBRATION = {"temperature": 1.0, "sample_prior": 0.25, "survey_prevalence": 1e-3}


def test_the_parent_sample_is_cut_like_the_training_negatives(tmp_path):
    rows = pd.concat(
        [
            sweep_rows(np.array([30.1, 30.2]), np.array([-3.0, -3.1])),
            sweep_rows(np.array([30.3]), np.array([-3.2]), maskbits=1 << 16, first_objid=10),
            sweep_rows(np.array([30.4]), np.array([-3.3]), object_type="PSF", first_objid=20),
        ],
        ignore_index=True,
    )
    path = write_sweep(tmp_path / "sweep-030m005-040p000.fits", rows)
    table = FITSTable(lambda: open(path, "rb"), "s")
    sample, counts = sweep_file_sample("s", table, CUTS, 1000)
    assert len(sample) == 2 and counts["rows_read"] == 4
    assert counts["cut_maskbits"] == 1 and counts["cut_type"] == 1
    lenscat = pd.DataFrame(
        {"name": ["DESI J0200"], "RA [deg]": [30.1 + 0.5 / 3600], "DEC [deg]": [-3.0],
         "grading": ["confident"]}
    )  # fmt: skip
    flagged = flag_known_lenses(sample, lenscat, 2.0)
    assert flagged["known_lens"].tolist() == ["DESI J0200", ""]  # kept, not dropped
    assert flagged["known_grading"].tolist() == ["confident", ""]


def test_a_user_table_of_positions_is_a_parent_sample():
    sample = positions_sample(pd.DataFrame({"RA": [30.0, 31.0], "Dec": [-3.0, -4.0]}), "mine")
    assert sample["object_id"].tolist() == ["pos:30.000000-3.000000", "pos:31.000000-4.000000"]
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        positions_sample(pd.DataFrame({"ra": [30.0, 400.0], "dec": [-3.0, 0.0]}), "bad")
    with pytest.raises(ValueError, match="lack column"):
        positions_sample(pd.DataFrame({"x": [1.0]}), "bad")


def _shard_world(tmp_path):
    """Five objects: a good stamp, a coarse-pixel file, a no-coverage core, no file, and
    a NaN stamp: one score and four reasons."""
    files = {}
    rows = []
    for i in range(5):
        ra, dec = 30.0 + 0.01 * i, -3.0
        grz = galaxy_planes(seed=i)
        name = f"cutout_{ra:.4f}_{dec:.4f}.fits"
        if i == 1:
            files[name] = service_fits(grz, ra, dec, pixscale=0.524)
        elif i == 2:
            grz[:, 45:56, :] = 0.0
            files[name] = service_fits(grz, ra, dec)
        elif i == 3:
            name = ""
        elif i == 4:
            grz[:] = np.nan
            files[name] = service_fits(grz, ra, dec)
        else:
            files[name] = service_fits(grz, ra, dec)
        rows.append(
            {
                "object_id": f"o{i}",
                "ra": ra,
                "dec": dec,
                "cutout_file": name,
                "cutout_row": -1,
                "cutout_origin": "file" if name else "",
                "cutout_error": "" if name else "no cutout",
                "brickname": "",
            }
        )
    sources = CutoutSources({k: (lambda v=v: v) for k, v in files.items()}, "npz", CHECKS)
    return pd.DataFrame(rows), sources


def test_every_object_gets_a_score_or_a_reason(tmp_path):
    rows, sources = _shard_world(tmp_path)
    model = build_model("compact_resnet").eval()
    pre = Preprocessing(clip=20.0, crop=48)
    out = score_shard(rows, sources, None, model, pre, CALIBRATION, SETTINGS, torch.device("cpu"))
    assert out["scored"].tolist() == [True, False, False, False, False]
    flags = out["scan_flags"].tolist()
    assert flags[0] == "" and flags[1].startswith('pixel scale 0.524"/px')
    assert flags[2] == "no coverage in core" and flags[3] == "no cutout"
    assert flags[4] == "all pixels nan"
    assert np.isfinite(out.loc[0, ["logit", "p_calibrated", "p_survey"]].to_numpy(float)).all()
    assert out.loc[1:, "p_survey"].isna().all()
    assert out.loc[0, "p_survey"] < out.loc[0, "p_calibrated"]  # shifted to 1e-3


def test_top_candidates_stream_equals_a_full_sort():
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {
                "object_id": [f"o{k}_{i}" for i in range(50)],
                "ra": rng.uniform(0, 10, 50),
                "dec": rng.uniform(-5, 5, 50),
                "logit": rng.normal(size=50),
                "p_survey": 0.0,
                "p_calibrated": 0.0,
                "scored": rng.random(50) > 0.1,
                "known_lens": "",
                "known_grading": "",
                "photsys": "S",
                "mag_r": 20.0,
                "brickname": "",
            }
        )
        for k in range(4)
    ]
    top = top_candidates(iter(parts), 10)
    full = pd.concat(parts)
    full = full[full["scored"]].sort_values("logit", ascending=False).head(10)
    assert top["object_id"].tolist() == full["object_id"].tolist()
    assert top["rank"].tolist() == list(range(1, 11))
    assert top["viewer_url"].iloc[0] == viewer_url(full["ra"].iloc[0], full["dec"].iloc[0])


def test_expected_lenses_and_their_interval():
    p = np.full(100, 0.1)
    e = expected_lenses(p)
    assert e["expected"] == pytest.approx(10.0)
    assert e["ci_low"] == pytest.approx(10 - 1.96 * 3.0) and e["ci_high"] == pytest.approx(
        10 + 1.96 * 3.0
    )


def test_the_interval_spans_the_calibrations_own_uncertainty():
    p = np.full(100, 0.1)
    wide = expected_lenses(p, (np.full(100, 0.05), np.full(100, 0.2)))
    assert wide["expected"] == pytest.approx(10.0)
    assert wide["ci_low"] == pytest.approx(max(0.0, 5 - 1.96 * np.sqrt(100 * 0.05 * 0.95)))
    assert wide["ci_high"] == pytest.approx(20 + 1.96 * 4.0)


def test_the_temperature_interval_holds_the_fitted_temperature():
    from stronglens_calibration.evaluation.calibration import fit_temperature, temperature_interval

    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.3).astype(int)
    z = 2.0 * (2 * y - 1) + rng.normal(0, 2.0, 400)  # over-confident logits: T > 1
    t = fit_temperature(z, y).temperature
    lo, hi = temperature_interval(z, y, 100, 0)
    assert lo < t < hi and lo > 0.5 and hi < 5
    small = temperature_interval(z[:60], y[:60], 100, 0)
    assert small[1] - small[0] > hi - lo  # fewer objects, a less certain calibration


def test_the_inspection_page_links_every_candidate_and_records_grades():
    candidates = pd.DataFrame(
        {
            "rank": [1, 2],
            "object_id": ["dr10:1_2_3", "dr10:1_2_4"],
            "ra": [30.0, 31.0],
            "dec": [-3.0, -4.0],
            "p_survey": [0.4, 0.1],
            "p_calibrated": [0.99, 0.9],
            "logit": [5.0, 2.0],
            "known_lens": ["DESI J0200", ""],
            "known_grading": ["confident", ""],
            "photsys": ["S", "S"],
            "mag_r": [20.1, np.nan],
            "brickname": ["", ""],
            "viewer_url": [viewer_url(30.0, -3.0), viewer_url(31.0, -4.0)],
        }
    )
    page = inspection_page(
        candidates,
        [galaxy_planes(seed=1), galaxy_planes(seed=2)],
        {"objects": 2},
        {"lupton_q": 8.0, "lupton_stretch": 0.15, "crop": 61},
    )
    assert page.count("data:image/png;base64,") == 2
    assert page.count('type="radio"') == 2 * 4
    assert "https://www.legacysurvey.org/viewer?ra=30.000000&amp;dec=-3.000000" in page
    assert "saveGrades()" in page and "scan_grades.csv" in page and "sortBy(" in page
    assert "DESI J0200 (confident)" in page
    grades = read_grades(
        pd.DataFrame({"object_id": ["dr10:1_2_3", "dr10:1_2_4"], "grade": ["A", None]})
    )
    assert grades["object_id"].tolist() == ["dr10:1_2_3"]
    with pytest.raises(ValueError, match="unknown grade"):
        read_grades(pd.DataFrame({"object_id": ["x"], "grade": ["maybe"]}))


def test_a_model_from_an_mlflow_run_is_scored_with_its_calibration(tmp_path, project_parameters):
    import json

    import mlflow

    from stronglens_calibration.datasets import TorchArtifactDataset
    from stronglens_calibration.models.artifact import to_artifact
    from stronglens_calibration.pipelines.scan.config import ScanConfig
    from stronglens_calibration.pipelines.scan.nodes import _model

    artifact = to_artifact(
        build_model("compact_resnet"), {"architecture": "compact_resnet"}, Preprocessing(20.0, 48)
    )
    TorchArtifactDataset(str(tmp_path / "lens_finder.pt")).save(artifact)
    (tmp_path / "calibration.json").write_text(json.dumps(CALIBRATION | {"temperature": 1.7}))
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run() as run:
            mlflow.log_artifact(str(tmp_path / "lens_finder.pt"), "model")
            mlflow.log_artifact(str(tmp_path / "calibration.json"), "reports")
        scan = dict(project_parameters["scan"], model_run_id=run.info.run_id)
        loaded, calibration = _model({}, {}, ScanConfig.from_params(scan))
    finally:
        mlflow.set_tracking_uri(None)
    assert calibration["temperature"] == 1.7
    assert all(
        torch.equal(loaded["state_dict"][k], artifact["state_dict"][k])
        for k in artifact["state_dict"]
    )


def test_cpu_threads_and_the_allocator_setting_are_read_and_checked(project_parameters):
    import os

    from stronglens_calibration.pipelines.scan.config import ScanConfig

    scan = project_parameters["scan"]
    cfg = ScanConfig.from_params(dict(scan, cpu_threads="auto"))
    assert cfg.scoring.threads == max(1, min(os.cpu_count() or 1, 8))
    assert ScanConfig.from_params(dict(scan, cpu_threads=3)).scoring.threads == 3
    off = ScanConfig.from_params(dict(scan, retain_freed_memory_mib=0))
    assert off.retain_freed_memory_mib == 0
    with pytest.raises(ValueError, match="scan.cpu_threads"):
        ScanConfig.from_params(dict(scan, cpu_threads=0))
    with pytest.raises(ValueError, match="scan.retain_freed_memory_mib"):
        ScanConfig.from_params(dict(scan, retain_freed_memory_mib=4096))


def test_threads_do_not_change_the_scores():
    from stronglens_calibration.scan.scoring import logits_of_stamps

    rng = np.random.default_rng(11)
    stamps = rng.normal(0, 0.003, (80, 3, 101, 101)).astype(np.float32)
    stamps[4, 1] = 0.0  # an empty band: flagged, not scored
    stamps[9, 0, 50, 50] = np.nan  # NaN in the core
    torch.manual_seed(0)
    model = build_model("compact_resnet").eval()
    pre = Preprocessing(20.0, 48)
    errors = np.full(80, "", dtype=object)
    out = []
    for threads in (1, 2, 4):
        settings = ScoringSettings(101, 1.5, (32.0, 45.0), 5.0, 3, 0.25, 32, 1e-3, threads)
        out.append(logits_of_stamps(stamps, errors, model, pre, settings, torch.device("cpu")))
    for logits, flags in out[1:]:
        np.testing.assert_array_equal(logits, out[0][0])
        np.testing.assert_array_equal(flags, out[0][1])
    assert out[0][1][4] == "empty band r" and "nan in core" in out[0][1][9]
    assert np.isnan(out[0][0][[4, 9]]).all() and np.isfinite(np.delete(out[0][0], [4, 9])).all()
