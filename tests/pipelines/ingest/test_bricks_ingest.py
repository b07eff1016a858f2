"""ingest with cutouts cut from coadd bricks: the stamps equal the cutout files' bytes,
and an object too close to its brick's edge is quarantined with the reason."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.stamps.bricks import EDGE_ERROR
from tests.conftest import run_pipelines, store_shards
from tests.stamps.test_bricks import brick_wcs, write_brick

SIDE = 301


def _stamps_by_id(root) -> dict[str, np.ndarray]:
    objects = pd.read_parquet(root / "03_primary/objects_ingested.parquet")
    shards: dict[int, np.ndarray] = {}
    out = {}
    files = store_shards(root)
    for row in objects[objects["shard"] >= 0].itertuples():
        if row.shard not in shards:
            shards[row.shard] = np.load(files[f"part-{row.shard:05d}"])
        out[row.object_id] = shards[row.shard][row.offset]
    return out


@pytest.mark.slow
def test_stamps_cut_from_bricks_equal_the_cutout_files(tmp_path, small_parameters):
    check_bricks_against_files(tmp_path, copy.deepcopy(small_parameters))


def check_bricks_against_files(tmp_path, params: dict) -> None:
    """Ingest with files, then with four files replaced by bricks (one at an edge): the
    brick stamps equal the files' and the edge object is quarantined (any engine)."""
    files_root, bricks_root = tmp_path / "files", tmp_path / "bricks"
    run_pipelines(["mock_survey", "ingest"], files_root, params)
    reference = _stamps_by_id(files_root)
    objects = pd.read_parquet(files_root / "03_primary/objects_ingested.parquet")

    # four objects with a FITS cutout, in four bricks; the last sits at its brick's edge
    chosen = (
        objects[(objects["reader"] == "fits") & (objects["cutout_error"] == "")]
        .drop_duplicates("brickname")
        .head(4)
    )
    assert len(chosen) == 4
    shutil.copytree(files_root / "01_raw", bricks_root / "01_raw")
    for k, row in enumerate(chosen.itertuples()):
        (bricks_root / "01_raw/cutouts" / row.cutout_file).unlink()
        x, y = (150, 150) if k < 3 else (20, 150)  # 0-based pixel of the object
        wcs = brick_wcs(row.ra, row.dec, SIDE)
        wcs.wcs.crpix = [x + 1, y + 1]  # the object at pixel (x, y)
        images = {}
        for b, band in enumerate("grz"):
            image = np.zeros((SIDE, SIDE), np.float32)
            if k < 3:
                image[y - 50 : y + 51, x - 50 : x + 51] = reference[row.object_id][b]
            images[band] = image
        write_brick(bricks_root / "01_raw/coadd", row.brickname, wcs, images)

    params["ingest"]["bricks"]["enabled"] = True
    run_pipelines(["ingest", "quality"], bricks_root, params)
    from_bricks = _stamps_by_id(bricks_root)
    cut = pd.read_parquet(bricks_root / "03_primary/objects_ingested.parquet").set_index(
        "object_id"
    )
    for k, row in enumerate(chosen.itertuples()):
        assert cut.at[row.object_id, "cutout_origin"] == "brick"
        assert cut.at[row.object_id, "cutout_file"] == f"brick:{row.brickname}"
        if k < 3:
            assert cut.at[row.object_id, "reader"] == "brick"
            np.testing.assert_array_equal(from_bricks[row.object_id], reference[row.object_id])
        else:
            assert cut.at[row.object_id, "cutout_error"] == EDGE_ERROR
    # every other object is unchanged
    edge_id = chosen.iloc[3]["object_id"]
    assert set(from_bricks) == set(reference)
    for object_id, stamp in reference.items():
        if object_id != edge_id:
            np.testing.assert_array_equal(from_bricks[object_id], stamp)
    quarantine = pd.read_parquet(bricks_root / "03_primary/quarantine.parquet")
    edge = quarantine[quarantine["object_id"] == edge_id]
    assert len(edge) == 1 and EDGE_ERROR in edge["reason"].iloc[0]
