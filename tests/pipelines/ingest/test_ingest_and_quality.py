"""ingest and quality end to end on the small mock survey, with bad inputs planted."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.catalogues.lenscat import select_candidates
from stronglens_calibration.datasets import FITSTableDataset
from stronglens_calibration.mock.files import cutout_filename
from stronglens_calibration.sky.matching import nearest_neighbour
from stronglens_calibration.stamps.formats import encode_fits
from tests.conftest import run_pipelines, store_shards

#: every test here runs pipelines on a mock survey
pytestmark = pytest.mark.slow


def _clean_world(params: dict) -> dict:
    """A small survey where no object fails the photometric cuts by chance."""
    params = copy.deepcopy(params)
    m = params["mock_survey"]
    m["photometry"].update(maskbits_rate=0.0, nobs_mean={"g": 12.0, "r": 12.0, "z": 12.0})
    m["formats"].update(npz_cutout_fraction=0.1, npz_bands_fraction=0.1, parquet_npz_fraction=0.1)
    m["defects"].update(nan_stamp_rate=0.0, missing_band_rate=0.0, truncated_file_rate=0.0)
    # hosts the cuts keep: no point sources, and the bright end (mag_z well inside 16-20.5)
    m["lens_galaxy"].update(type_fractions={"DEV": 1, "SER": 1, "EXP": 1, "REX": 1})
    m["lens_galaxy"]["luminosity_power"] = 6.0
    m["negatives_per_positive"] = 6.0
    return params


def _load(root: Path, rel: str) -> pd.DataFrame:
    return pd.read_parquet(root / rel)


def _training_truth(root: Path) -> pd.DataFrame:
    """The mock's training sample (the scan region is another pipeline's input)."""
    truth = _load(root, "01_raw/mock_truth.parquet")
    return truth[truth["region"] == "train"].reset_index(drop=True)


def _candidate_rows(root: Path, params: dict) -> int:
    """Rows of the raw lenscat file that are lens candidates by the ingest parameters,
    counted independently of the pipeline's own bookkeeping."""
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv", dtype={"zlens": str})
    p = params["ingest"]["positives"]
    rows = select_candidates(
        lenscat, p["ref_patterns"], p["name_patterns"], list(p["tiers"]), p["lens_types"]
    )
    return len(rows)


@pytest.fixture
def world(tmp_path, small_parameters):
    params = _clean_world(small_parameters)
    run_pipelines(["mock_survey"], tmp_path, params)
    return tmp_path, params


def test_clean_survey_ingests_everything_and_counts_add_up(world):
    root, params = world
    run_pipelines(["ingest", "quality"], root, params)
    objects = _load(root, "03_primary/objects_ingested.parquet")
    truth = _training_truth(root)
    assert objects["object_id"].is_unique
    pos = objects[objects["label"] == 1]
    assert len(pos) == (truth["kind"] == "lens").sum()
    ratio = params["ingest"]["sampling"]["negatives_per_positive"]
    ingest = json.loads((root / "08_reporting/ingest_report.json").read_text())
    neg = ingest["selection"]["negatives"]
    # every negative asked for is either selected or reported as a shortfall
    assert neg["selected"] + sum(neg["shortfall"].values()) == round(ratio * len(pos))
    assert (objects["label"] == 0).sum() == neg["selected"]
    assert neg["selected"] >= 0.8 * ratio * len(pos)
    assert set(pos["tier"]) == {"A", "B"}
    assert set(objects["reader"]) == {"fits", "npz_cutout", "npz_bands"}
    assert set(objects["cutout_origin"]) == {"file", "table"}
    # the store: float32 (n, 3, 101, 101) shards that the table points into
    arrays = {name: np.load(p, allow_pickle=False) for name, p in store_shards(root).items()}
    assert all(a.dtype == np.float32 and a.shape[1:] == (3, 101, 101) for a in arrays.values())
    assert sum(len(a) for a in arrays.values()) == len(objects)
    row = objects.iloc[0]
    stamp = arrays[f"part-{row['shard']:05d}"][row["offset"]]
    assert np.isfinite(stamp).all()
    # every lens candidate of the raw lenscat file is a positive or a quarantine row
    quarantine = _load(root, "02_intermediate/ingest_quarantine.parquet")
    assert (objects["label"] == 1).sum() + (quarantine["label"] == 1).sum() == _candidate_rows(
        root, params
    )
    qc = _load(root, "03_primary/objects_qc.parquet")
    assert qc["cutout_ok"].all()
    for col in ("core_flux_r", "annulus_median_g", "annulus_mad_z", "nan_frac"):
        assert qc[col].notna().all(), col
    # no negative lies within the exclusion radius of any lenscat entry (the positives are
    # in the sweeps too)
    lenscat = pd.read_csv(root / "01_raw/lenscat/lenscat_catalogue.csv")
    neg = objects[objects["label"] == 0]
    _, sep = nearest_neighbour(
        neg["ra"].to_numpy(), neg["dec"].to_numpy(), lenscat["RA [deg]"], lenscat["DEC [deg]"]
    )
    assert sep.min() > params["ingest"]["exclusion_radius_arcsec"]


def test_bad_inputs_end_as_quarantine_rows_with_reasons(world):
    root, params = world
    truth = _training_truth(root)
    cutdir = root / "01_raw/cutouts"
    lenses = truth[(truth["kind"] == "lens") & (truth["file_format"] == "fits")].reset_index()
    planted = {}

    def plant(i: int, reason: str, data: bytes | None) -> None:
        row = lenses.iloc[i]
        path = cutdir / cutout_filename(row)
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
        planted["lenscat:" + row["lenscat_name"].split("|")[0].strip()] = reason

    good = (cutdir / cutout_filename(lenses.iloc[0])).read_bytes()

    def at(i: int) -> tuple[float, float]:
        """The planted file's own object position (its header must agree with it)."""
        return tuple(lenses.iloc[i][["ra", "dec"]])

    plant(0, "truncated file", good[: len(good) // 2])
    plant(1, "corrupt FITS", b"SIMPLE  =                    T / garbage" + b"\x00" * 200)
    plant(2, "missing file", None)
    plant(
        3,
        "wrong shape (51, 51)",
        encode_fits(np.zeros((3, 51, 51), np.float32), "grz", *at(3), 0.262),
    )
    plant(
        4,
        "all pixels nan",
        encode_fits(np.full((3, 101, 101), np.nan, np.float32), "grz", *at(4), 0.262),
    )
    plant(
        5,
        "missing band r",
        encode_fits(
            np.zeros((2, 101, 101), np.float32)
            + 1e-3 * np.random.default_rng(0).normal(size=(2, 101, 101)).astype(np.float32),
            "gz",
            *at(5),
            0.262,
        ),
    )
    # a corrupt NPZ among the negatives
    neg = truth[(truth["kind"] == "galaxy") & (truth["file_format"] == "npz_cutout")].iloc[0]
    (cutdir / cutout_filename(neg)).write_bytes(b"PK\x03\x04garbage")
    # a lenscat row with NaN coordinates that matches the DESI references
    csv = root / "01_raw/lenscat/lenscat_catalogue.csv"
    lenscat = pd.read_csv(csv, dtype={"zlens": str})
    extra = lenscat.iloc[[0]].assign(
        **{
            "name": "DESI-nan",
            "RA [deg]": np.nan,
            "ref": "Huang et al. (2021) - arXiv:2005.04730",
            "grading": "confident",
            "type": "galaxy",
        }
    )
    pd.concat([lenscat, extra]).to_csv(csv, index=False)

    run_pipelines(["ingest", "quality"], root, params)
    quarantine = _load(root, "03_primary/quarantine.parquet")
    by_id = dict(zip(quarantine["object_id"], quarantine["reason"], strict=False))
    for object_id, reason in planted.items():
        assert object_id in by_id, object_id
        assert reason in by_id[object_id], (object_id, by_id[object_id])
    assert "lenscat:DESI-nan" in by_id
    assert by_id["lenscat:DESI-nan"] == "non-finite coordinates"
    assert any(
        r in ("corrupt NPZ", "truncated file") for r in quarantine["reason"] if isinstance(r, str)
    )
    # every object that is not usable is in the quarantine with the quality stage, and every
    # lens candidate of the raw lenscat file is an object or a quarantine row
    qc = _load(root, "03_primary/objects_qc.parquet")
    unusable = set(qc.loc[~qc["cutout_ok"], "object_id"])
    assert unusable == set(quarantine.loc[quarantine["stage"] == "quality", "object_id"])
    at_ingest = quarantine[quarantine["stage"] != "quality"]
    assert (qc["label"] == 1).sum() + (at_ingest["label"] == 1).sum() == _candidate_rows(
        root, params
    )


def test_smoke_run_reads_only_the_sweeps_it_needs(world):
    root, params = world
    params = copy.deepcopy(params)
    params["ingest"]["limit"] = 2
    run_pipelines(["ingest"], root, params)
    report = json.loads((root / "08_reporting/ingest_report.json").read_text())
    sel = report["selection"]
    assert sel["positives"]["candidates"] == 2
    assert sel["negatives"]["sweep_files_read"] < sel["negatives"]["sweep_files_total"]
    objects = _load(root, "03_primary/objects_ingested.parquet")
    assert (objects["label"] == 1).sum() == 2


def test_duplicated_sweep_rows_are_quarantined_not_selected_twice(world):
    root, params = world
    sweeps = sorted((root / "01_raw/sweeps").glob("*.fits"))
    # duplicate every row of every sweep file: each selected negative then has a twin
    for path in sweeps:
        table = FITSTableDataset(str(path)).load().read()
        FITSTableDataset(str(path)).save(pd.concat([table, table], ignore_index=True))
    run_pipelines(["ingest"], root, params)
    objects = _load(root, "03_primary/objects_ingested.parquet")
    quarantine = _load(root, "02_intermediate/ingest_quarantine.parquet")
    assert objects["object_id"].is_unique
    dups = quarantine[quarantine["reason"] == "duplicate object_id in sweep catalogues"]
    assert set(objects.loc[objects["label"] == 0, "object_id"]) <= set(dups["object_id"])


def test_missing_cutouts_come_from_the_cutout_service_when_enabled(world):
    import threading
    from http.server import ThreadingHTTPServer

    from tests.stamps.test_cutout_service import _Service

    root, params = world
    truth = _training_truth(root)
    lens = truth[(truth["kind"] == "lens") & (truth["file_format"] == "fits")].iloc[0]
    (root / "01_raw/cutouts" / cutout_filename(lens)).unlink()
    _Service.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        params = copy.deepcopy(params)
        params["ingest"]["cutout_service"].update(
            enabled=True,
            url=f"http://127.0.0.1:{server.server_address[1]}/fits-cutout",
            backoff_seconds=0.01,
            cache_dir=str(root / "01_raw/cutouts"),
        )
        run_pipelines(["ingest", "quality"], root, params)
    finally:
        server.shutdown()
        server.server_close()
    qc = _load(root, "03_primary/objects_qc.parquet")
    row = qc[qc["object_id"] == "lenscat:" + lens["lenscat_name"].split("|")[0].strip()].iloc[0]
    assert row["cutout_origin"] == "service"
    assert bool(row["cutout_ok"])
    assert (root / "01_raw/cutouts" / cutout_filename(lens)).exists()


def test_a_header_only_or_unmatched_lenscat_is_named_as_such(project_parameters):
    """An empty lenscat file stops ingest blaming the lenscat table (not the cutouts), and
    a table without one wanted candidate says which gradings and types it holds."""
    from stronglens_calibration.catalogues.lenscat import LENSCAT_COLUMNS
    from stronglens_calibration.pipelines.ingest.nodes import select_positives

    params = project_parameters["ingest"]
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LENSCAT_COLUMNS})
    with pytest.raises(ValueError, match="lens_candidates .* has no rows"):
        select_positives(empty, params)
    ref = "Huang et al. (2020)"  # a reference the default patterns search
    other = pd.DataFrame(
        {
            "name": ["x"], "RA [deg]": [10.0], "DEC [deg]": [1.0], "zlens": ["0.5"],
            "type": ["galaxy"], "grading": ["maybe"], "ref": [ref],
        }
    )  # fmt: skip
    with pytest.raises(ValueError, match="'maybe': 1"):
        select_positives(other, params)
