"""Fault injection on the cutouts one ingest reads: a symlink loop, a file that vanishes
between planning and reading, archives that inflate far beyond a stamp, a file far
larger than one. Each stays that object's quarantine row; the ingest goes on."""

from __future__ import annotations

import copy
import gzip
import io
import os

import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io.core import DatasetError
from kedro.runner import SequentialRunner

from stronglens_calibration.pipelines import ingest
from stronglens_calibration.stamps.formats import encode_fits
from stronglens_calibration.stamps.store import CutoutReadError, ReadLimits, read_source
from tests.conftest import project_catalog, run_pipelines

pytestmark = pytest.mark.faults


def test_a_wrapped_io_error_becomes_the_reason_of_its_cutout():
    """Promise: any error while fetching one cutout (here a Kedro DatasetError around an
    OSError, as a PartitionedDataset raises it) is that cutout's reason, named by the
    innermost error."""

    def vanished() -> bytes:
        try:
            raise FileNotFoundError(2, "No such file or directory", "cutout_1.fits")
        except FileNotFoundError as exc:
            raise DatasetError("Failed while loading data from dataset") from exc

    with pytest.raises(CutoutReadError) as info:
        read_source(("loader", vanished))
    assert info.value.reason.startswith("unreadable file (FileNotFoundError), ")
    assert "cutout_1.fits" in info.value.reason


def _bomb_npz(n_bytes: int) -> bytes:
    """An NPZ whose one member inflates to ``n_bytes`` of zeros (a few kB on disk)."""
    side = int(np.sqrt(n_bytes / 12))
    buf = io.BytesIO()
    np.savez_compressed(buf, cutout=np.zeros((side, side, 3), np.float32))
    return buf.getvalue()


def _bomb_fits_gz(n_bytes: int) -> bytes:
    side = int(np.sqrt(n_bytes / 12))
    return gzip.compress(encode_fits(np.zeros((3, side, side), np.float32), "grz", 0, 0, 0.262))


@pytest.mark.slow
def test_unreadable_and_oversize_cutouts_become_quarantine_rows(tmp_path, small_parameters):
    """Promise: a symlink loop, a vanished file, an inflating NPZ or gzip FITS and a file
    over the size cap each end as a named reason for their object (never a crashed
    ingest, never an inflated archive in memory), and every other object is ingested."""
    params = copy.deepcopy(small_parameters)
    params["ingest"]["cutouts"].update(max_file_mib=1, max_decoded_mib=8)
    run_pipelines(["mock_survey"], tmp_path, params)
    folder = tmp_path / "01_raw/cutouts"
    fits = sorted(p for p in folder.glob("*.fits") if p.is_file())
    npz = sorted(p for p in folder.glob("*.npz") if p.is_file())
    assert len(fits) >= 4 and npz, "the mock writes both formats"
    loop, vanished, gz_bomb, big = fits[:4]
    zip_bomb = npz[0]
    loop.unlink()
    os.symlink(loop.name, loop)  # a link to itself: ELOOP on every read
    bomb = 12 * 2**20  # 12 MiB of pixels against an 8 MiB cap
    zip_bomb.write_bytes(_bomb_npz(bomb))
    gz_bomb.write_bytes(_bomb_fits_gz(bomb))
    assert len(zip_bomb.read_bytes()) < 2**20 and len(gz_bomb.read_bytes()) < 2**20
    big.write_bytes(np.random.default_rng(0).bytes(3 * 2**20 // 2))  # 1.5 MiB > 1 MiB

    class VanishAfterPlanning:
        """Deletes a planned file once the plan is made (a sync, a deleted S3 object)."""

        @hook_impl
        def after_node_run(self, node) -> None:
            if node.name == "plan_cutouts_node":
                vanished.unlink()

    hooks = _create_hook_manager()
    hooks.register(VanishAfterPlanning())
    SequentialRunner().run(
        ingest.create_pipeline(), project_catalog(tmp_path, params), hook_manager=hooks
    )
    assert not vanished.exists()
    run_pipelines(["quality"], tmp_path, params)

    objects = pd.read_parquet(tmp_path / "03_primary/objects_qc.parquet")
    error = dict(zip(objects["cutout_file"], objects["cutout_error"], strict=True))
    assert error[loop.name].startswith("unreadable file (OSError), ")
    assert "symbolic links" in error[loop.name]
    assert error[vanished.name].startswith("unreadable file (FileNotFoundError)")
    assert error[zip_bomb.name] == "oversize content"
    assert error[gz_bomb.name] == "oversize content"
    assert error[big.name].startswith("oversize file (1.5 MiB")
    planted = {loop.name, vanished.name, zip_bomb.name, gz_bomb.name, big.name}
    quarantine = pd.read_parquet(tmp_path / "03_primary/quarantine.parquet")
    bad_ids = set(objects.loc[objects["cutout_file"].isin(planted), "object_id"])
    assert bad_ids <= set(quarantine["object_id"])
    others = objects[~objects["cutout_file"].isin(planted) & (objects["cutout_file"] != "")]
    assert (others["cutout_error"] == "").all()


def test_the_size_caps_are_parameters_with_a_clear_error():
    """Promise: the caps are validated like every parameter."""
    with pytest.raises(ValueError, match="max_file_bytes"):
        ReadLimits(max_file_bytes=0)
