"""ingest and quality on inputs written in the producers' layouts: a published sweep tree
(releases, companions, north and south), cutouts named and encoded as the service and
browsers write them, headers that disagree with their objects, and no-coverage stamps.
Every case ends in a correct stamp or a named quarantine reason, and the counts add up
against the raw inputs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration import schema
from tests.conftest import run_pipelines, store_shards
from tests.producers import (
    fpacked,
    galaxy_planes,
    gzipped,
    service_fits,
    sweep_rows,
    write_sweep,
)

pytestmark = pytest.mark.slow

BOX = "sweep-150p000-160p005"
TRACTOR_OFFSET_DEG = 0.3 / 3600  # Tractor positions sit 0.3" east of the lenscat ones
SOUTH = [(151.0 + 0.05 * i, 2.0) for i in range(6)]
NORTH = (185.0, 40.0)  # NGC above Dec 32.375: DR9 BASS/MzLS imaging
NEGATIVES = [(151.5 + 0.05 * (i % 5), 1.0 + 0.1 * (i // 5)) for i in range(15)]


def _lenscat() -> pd.DataFrame:
    rows = [
        {
            "name": f"DESI J1000{i:02d}",
            "RA [deg]": ra,
            "DEC [deg]": dec,
            "zlens": "0.5",
            "type": "galaxy",
            "grading": "confident" if i % 2 == 0 else "probable",
            "ref": "Huang et al. (2021)",
        }
        for i, (ra, dec) in enumerate([*SOUTH, NORTH])
    ]
    return pd.DataFrame(rows)


def _name(ra: float, dec: float, decimals: int = 4, suffix: str = ".fits") -> str:
    return f"cutout_{ra:.{decimals}f}_{dec:.{decimals}f}{suffix}"


def build_world(root: Path, negatives: list[tuple[float, float]] = NEGATIVES) -> dict:
    """The raw inputs; returns the planted stamps and names the test checks against."""
    raw = root / "01_raw"
    (raw / "lenscat").mkdir(parents=True)
    _lenscat().to_csv(raw / "lenscat" / "lenscat_catalogue.csv", index=False)
    sweeps = raw / "sweeps"
    pos_ra = np.array([ra + TRACTOR_OFFSET_DEG for ra, _ in SOUTH])
    pos_dec = np.array([dec for _, dec in SOUTH])
    neg_ra, neg_dec = np.array([p[0] for p in negatives]), np.array([p[1] for p in negatives])
    south = pd.concat(
        [
            sweep_rows(pos_ra, pos_dec),
            sweep_rows(neg_ra, neg_dec, first_objid=100),
            sweep_rows(np.array([152.5]), np.array([3.5]), maskbits=1 << 16, first_objid=900),
        ],
        ignore_index=True,
    )
    write_sweep(sweeps / "south/sweep/10.1" / f"{BOX}.fits", south)
    # the superseded release holds a row 10.1 dropped: it must not be sampled
    stale = pd.concat(
        [south, sweep_rows(np.array([155.0]), np.array([4.0]), first_objid=950)],
        ignore_index=True,
    )
    write_sweep(sweeps / "south/sweep/10.0" / f"{BOX}.fits", stale)
    # a companion file: same rows, photo-z columns only
    from astropy.io import fits

    pz = fits.BinTableHDU.from_columns(
        [fits.Column("Z_PHOT_MEAN", "E", array=np.zeros(len(south), np.float32))]
    )
    fits.HDUList([fits.PrimaryHDU(), pz]).writeto(sweeps / "south/sweep/10.1" / f"{BOX}-pz.fits")
    north_rows = sweep_rows(
        np.array([NORTH[0] + TRACTOR_OFFSET_DEG, 185.5, 186.0]),
        np.array([NORTH[1], 40.5, 41.0]),
        release=9011,
    )
    write_sweep(sweeps / "north/sweep/9.0" / "sweep-180p040-190p045.fits", north_rows, "dr9")

    cut = raw / "cutouts"
    cut.mkdir()
    planes = {}
    truth = {}
    for i, (ra, dec) in enumerate(SOUTH):
        tra = ra + TRACTOR_OFFSET_DEG
        grz = galaxy_planes(seed=i)
        planes[f"lenscat:DESI J1000{i:02d}"] = grz
        if i == 0:  # saved by a browser at the lenscat position, 4 decimals
            (cut / _name(ra, dec)).write_bytes(service_fits(grz, ra, dec))
        elif i == 1:  # z, r, g planes named only by BAND0..2, at the Tractor position
            zrg = grz[::-1]
            data = service_fits(zrg, tra, dec, bands="zrg", bands_card=False)
            (cut / _name(tra, dec, 5)).write_bytes(data)
        elif i == 2:  # a name without a position: found by its WCS
            (cut / "lens_candidate_three.fits").write_bytes(service_fits(grz, tra, dec))
        elif i == 3:
            (cut / _name(tra, dec, suffix=".fits.gz")).write_bytes(
                gzipped(service_fits(grz, tra, dec))
            )
        elif i == 4:
            (cut / _name(tra, dec, suffix=".fits.fz")).write_bytes(fpacked(grz, tra, dec))
        else:
            (cut / _name(tra, dec)).write_bytes(service_fits(grz, tra, dec, variant="invvar"))
    (cut / _name(*NORTH)).write_bytes(service_fits(galaxy_planes(seed=40), *NORTH))
    for j, (ra, dec) in enumerate(negatives):
        grz = galaxy_planes(seed=100 + j)
        name = _name(ra, dec)
        if j == 0:
            data, truth[j] = service_fits(grz, ra, dec, pixscale=0.524), 'pixel scale 0.524"/px'
        elif j == 1:
            data, truth[j] = service_fits(grz, ra, dec + 1.0), 'centre 3600.0" from the object'
        elif j == 2:
            data, truth[j] = service_fits(grz, ra, dec, variant="subimage"), "subimage cutout"
        elif j == 3:
            grz[:, :, :40] = 0.0
            data, truth[j] = service_fits(grz, ra, dec), "no coverage in 40% of band g"
        elif j == 4:
            grz[:, 45:56, :] = 0.0
            data, truth[j] = service_fits(grz, ra, dec), "no coverage in core"
        elif j == 5:
            i_plane = np.zeros((1, 101, 101), np.float32) + 0.5
            data = service_fits(np.concatenate([grz[:2], i_plane, grz[2:]]), ra, dec, "griz")
        else:
            data = service_fits(grz, ra, dec)
        (cut / name).write_bytes(data)
    (cut / _name(158.0, 4.5)).write_bytes(service_fits(galaxy_planes(seed=999), 158.0, 4.5))
    return {"planes": planes, "negative_reasons": truth}


@pytest.fixture
def params(small_parameters):
    params = copy.deepcopy(small_parameters)
    s = params["ingest"]["sampling"]
    s.update(negatives_per_positive=2.5, hard_confuser_fraction=0.0, max_negative_shortfall=0.1)
    return params


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    objects = pd.read_parquet(root / "03_primary/objects_qc.parquet")
    ingest_q = pd.read_parquet(root / "02_intermediate/ingest_quarantine.parquet")
    quarantine = pd.read_parquet(root / "03_primary/quarantine.parquet")
    report = json.loads((root / "08_reporting/ingest_report.json").read_text())
    return objects, ingest_q, quarantine, report


def test_real_layouts_end_in_correct_stamps_or_named_reasons(tmp_path, params):
    world = build_world(tmp_path)
    run_pipelines(["ingest", "quality"], tmp_path, params)
    objects, ingest_q, quarantine, report = _tables(tmp_path)
    pos = objects[objects["label"] == 1].set_index("object_id")
    # the table is the data contract, column for column and dtype for dtype
    contract = schema.INGEST_COLUMNS + schema.QUALITY_COLUMNS
    assert list(objects.columns) == schema.names(contract)
    for col in contract:
        assert str(objects[col.name].dtype) == col.dtype, col.name
    assert list(quarantine.columns) == schema.names(schema.QUARANTINE_COLUMNS)

    # counts add up against the raw lenscat file: 7 candidates = 6 objects + 1 quarantined
    assert len(pos) + (ingest_q["label"] == 1).sum() == len(_lenscat())
    north = ingest_q[ingest_q["label"] == 1].iloc[0]
    assert north["object_id"] == "lenscat:DESI J100006"
    assert north["reason"].startswith("north: DR9 BASS/MzLS imaging")
    assert north["tier"] == "A"

    # both classes are centred on Tractor positions; the lenscat offset is recorded
    assert (pos["position_source"] == "tractor").all()
    assert pos["centre_offset_arcsec"].to_numpy() == pytest.approx(0.3, abs=0.01)
    assert (objects.loc[objects["label"] == 0, "position_source"] == "tractor").all()
    assert set(objects["photsys"]) == {"S"}

    # every positive's cutout was found (4 decimals, BAND0..n, WCS, gz, fz, invvar) and its
    # stamp in the store is the file's planes in g, r, z order
    assert (pos["cutout_error"] == "").all() and pos["cutout_ok"].all()
    store = {name: np.load(p) for name, p in store_shards(tmp_path).items()}
    for object_id, grz in world["planes"].items():
        row = pos.loc[object_id]
        stamp = store[f"part-{row['shard']:05d}"][row["offset"]]
        tolerance = 0.0026 if row["cutout_file"].endswith(".fz") else 0.0
        assert np.abs(stamp - grz).max() <= tolerance, object_id

    # each planted bad negative is quarantined with its reason
    by_position = {
        (round(r, 4), round(d, 4)): oid
        for oid, r, d in objects[["object_id", "ra", "dec"]].itertuples(index=False)
    }
    reasons = dict(zip(quarantine["object_id"], quarantine["reason"], strict=False))
    for j, reason in world["negative_reasons"].items():
        ra, dec = NEGATIVES[j]
        object_id = by_position[(round(ra, 4), round(dec, 4))]
        assert reason in reasons[object_id], (j, reasons[object_id])

    # the tree: the 10.0 copy and the companion were skipped; the stale row never sampled
    skipped = {s["key"]: s["reason"] for s in report["selection"]["sweep_files"]["skipped"]}
    assert skipped[f"south/sweep/10.0/{BOX}"] == "superseded by release 10.1"
    assert skipped[f"south/sweep/10.1/{BOX}-pz"] == "companion file (-pz)"
    assert not ((objects["ra"] - 155.0).abs() < 1e-3).any()
    # DR10's SUB_BLOB bit (16) rejects by default; the north rows are cut by the policy
    negatives = report["selection"]["negatives"]
    assert negatives["removed_by_cut"]["maskbits"] == 1
    assert negatives["removed_by_cut"]["photsys"] == 3
    # the cutout index: one file found by its WCS, one claimed by no object
    index = report["cutout_index"]
    assert index["located_by"]["header"] == 1
    assert index["unmatched_files"] >= 1 and "cutout_158.0000_4.5000.fits" in str(index)


def test_an_incomplete_sweep_folder_stops_ingest(tmp_path, params):
    """650 positives and 2 negatives once passed as a valid split: now ingest stops,
    naming the parameter that relaxes it."""
    build_world(tmp_path, negatives=NEGATIVES[:3])
    with pytest.raises(ValueError, match="ingest.sampling.max_negative_shortfall"):
        run_pipelines(["ingest"], tmp_path, params)


def test_a_sweep_of_another_schema_is_named_before_any_scan(tmp_path, params):
    build_world(tmp_path)
    rows = sweep_rows(np.array([161.0]), np.array([1.0]))
    write_sweep(tmp_path / "01_raw/sweeps/old/sweep-160p000-170p005.fits", rows, "dr8")
    with pytest.raises(ValueError, match=r"sweep-160p000-170p005: lacks column.*DR8 sweep"):
        run_pipelines(["ingest"], tmp_path, params)


def test_north_as_a_stratum_with_copies_of_one_galaxy_deduplicated(tmp_path, params):
    """With ``north.policy: stratum`` the north positive stays, its negatives come from
    the north sweeps, and a galaxy listed in both the north and the south sweeps is one
    object (the DECam copy kept, the other quarantined)."""
    build_world(tmp_path)
    both = sweep_rows(np.array([185.7]), np.array([40.7]), first_objid=500)
    south_copy = sweep_rows(np.array([185.7]), np.array([40.7]), first_objid=501)
    north_file = tmp_path / "01_raw/sweeps/north/sweep/9.0/sweep-180p040-190p045.fits"
    from stronglens_calibration.storage.fits_table import FITSTable

    old = FITSTable(lambda: open(north_file, "rb"), "n").read()
    extra = sweep_rows(
        np.array([186.2, 186.4]), np.array([40.2, 40.4]), release=9011, first_objid=600
    )
    north_rows = pd.concat(
        [old[list(both.columns)], both.assign(RELEASE=np.int16(9011)), extra], ignore_index=True
    )
    write_sweep(north_file, north_rows, "dr9")
    write_sweep(tmp_path / "01_raw/sweeps/south/sweep/10.1/sweep-180p040-190p045.fits", south_copy)
    (tmp_path / "01_raw/cutouts" / _name(185.7, 40.7)).write_bytes(
        service_fits(galaxy_planes(seed=7), 185.7, 40.7)
    )
    params["ingest"]["north"]["policy"] = "stratum"
    params["ingest"]["sampling"]["max_negative_shortfall"] = 1.0
    run_pipelines(["ingest"], tmp_path, params)
    objects = pd.read_parquet(tmp_path / "03_primary/objects_ingested.parquet")
    quarantine = pd.read_parquet(tmp_path / "02_intermediate/ingest_quarantine.parquet")
    assert "lenscat:DESI J100006" in set(objects["object_id"])
    pos = objects[objects["label"] == 1]
    assert (pos.loc[pos["object_id"] == "lenscat:DESI J100006", "photsys"] == "N").all()
    negatives = objects[objects["label"] == 0]
    assert set(negatives["photsys"]) == {"N", "S"}  # the north positive has north negatives
    near = objects[(objects["ra"] - 185.7).abs() < 1e-4]
    assert near["photsys"].tolist() == ["S"]  # one object, the DECam copy
    copies = quarantine[quarantine["reason"].str.startswith("same galaxy as")]
    assert copies["object_id"].tolist() == ["dr10:9011_331000_500"]
    assert not quarantine["reason"].str.contains("duplicate object_id").any()
