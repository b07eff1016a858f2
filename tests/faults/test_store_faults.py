"""Fault injection on the stamp store and the object table: an ingest that dies, a table
from another ingest, a re-ingest. Each test names the promise it checks
(docs/reliability.md lists them)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError
from kedro.runner import SequentialRunner

from stronglens_calibration.pipelines import ingest
from stronglens_calibration.stamps.generations import StoreMismatchError
from tests.conftest import project_catalog, run_pipelines, store_shards

pytestmark = [pytest.mark.slow, pytest.mark.faults]

TABLE = "03_primary/objects_ingested.parquet"


@pytest.fixture
def ingested(tmp_path, small_parameters) -> tuple[Path, dict]:
    """A small mock survey, ingested and quality-checked once."""
    run_pipelines(["mock_survey", "ingest", "quality"], tmp_path, small_parameters)
    return tmp_path, small_parameters


def _snapshot(root: Path) -> dict:
    shards = store_shards(root)
    return {
        "current": (root / "03_primary/stamps/CURRENT").read_text(),
        "table": (root / TABLE).read_bytes(),
        "shards": {name: path.read_bytes() for name, path in shards.items()},
    }


def _ingest_until(root: Path, params: dict, last_node: str) -> None:
    """The ingest pipeline up to ``last_node`` (a run killed right after it)."""
    pipeline = ingest.create_pipeline().to_nodes(last_node)
    SequentialRunner().run(pipeline, project_catalog(root, params))


def test_a_killed_ingest_leaves_the_previous_store_and_table_intact(ingested):
    """Promise: an ingest killed after its last shard but before its object table leaves
    the previous table, store and CURRENT byte for byte, and quality still measures
    every object on its own pixels."""
    root, params = ingested
    before = _snapshot(root)
    stats_before = pd.read_parquet(root / "03_primary/stamp_statistics.parquet")
    changed = copy.deepcopy(params)
    changed["ingest"]["cutouts"]["shard_size"] = 5  # another layout: every offset moves
    _ingest_until(root, changed, "read_cutouts_node")
    generations = sorted(p.name for p in (root / "03_primary/stamps").iterdir() if p.is_dir())
    assert len(generations) == 2  # the dead ingest's shards sit beside the good ones
    assert _snapshot(root) == before
    run_pipelines(["quality"], root, params)
    stats_after = pd.read_parquet(root / "03_primary/stamp_statistics.parquet")
    pd.testing.assert_frame_equal(stats_after, stats_before)


def test_a_completed_ingest_replaces_the_store_when_its_table_is_written(ingested):
    """Promise: a new ingest becomes current only with its table; the old generation is
    then removed, and the table's shard/offset point at the new shards."""
    root, params = ingested
    old = (root / "03_primary/stamps/CURRENT").read_text().strip()
    changed = copy.deepcopy(params)
    changed["ingest"]["cutouts"]["shard_size"] = 5
    run_pipelines(["ingest"], root, changed)
    new = (root / "03_primary/stamps/CURRENT").read_text().strip()
    assert new != old and not (root / "03_primary/stamps" / old).exists()
    table = pd.read_parquet(root / TABLE)
    assert set(table.loc[table["shard"] >= 0, "stamp_store"]) == {new}
    shards = store_shards(root)
    assert max(len(np.load(p)) for p in shards.values()) == 5
    assert sum(len(np.load(p)) for p in shards.values()) == int((table["shard"] >= 0).sum())


def test_a_table_from_another_ingest_is_refused(ingested):
    """Promise: quality, split, the gates and training refuse an object table whose
    stamps were replaced by a later ingest (it would point at other objects' pixels)."""
    root, params = ingested
    stale_table = (root / TABLE).read_bytes()
    stale_qc = (root / "03_primary/objects_qc.parquet").read_bytes()
    changed = copy.deepcopy(params)
    changed["ingest"]["cutouts"]["shard_size"] = 5
    run_pipelines(["ingest"], root, changed)
    (root / TABLE).write_bytes(stale_table)  # e.g. restored from a backup
    with pytest.raises(StoreMismatchError, match="objects_ingested describes stamp-store"):
        run_pipelines(["quality"], root, params)
    (root / "03_primary/objects_qc.parquet").write_bytes(stale_qc)
    with pytest.raises(StoreMismatchError, match="objects_qc describes stamp-store"):
        run_pipelines(["split"], root, params)


def test_the_current_generation_is_never_written_into(ingested):
    """Promise: rerunning only the reading step of an ingest cannot overwrite the store
    in use (it would mix two ingests' pixels under one table)."""
    root, params = ingested
    catalog = project_catalog(root, params)  # its ingest_plan names the current generation
    pipeline = (
        ingest.create_pipeline().from_nodes("read_cutouts_node").to_nodes("read_cutouts_node")
    )
    before = _snapshot(root)
    with pytest.raises(DatasetError, match="is the current stamp store"):
        SequentialRunner().run(pipeline, catalog)
    assert _snapshot(root) == before
