"""Fault injection on output sets: a run that fails between a table and its report, a
process killed in the middle of a publication or before it. Each test names the promise
it checks (docs/reliability.md lists them)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.runner import SequentialRunner

from stronglens_calibration.datasets import ObjectTableDataset, StampStoreDataset
from stronglens_calibration.datasets.staged_output import StagedOutput
from stronglens_calibration.output_sets import OutputSetHook, declared_members
from stronglens_calibration.storage import publication
from stronglens_calibration.storage.publication import (
    JOURNAL_FOLDER,
    Move,
    Publication,
    Publisher,
    staged_path,
)
from tests.conftest import project_catalog, run_pipelines

pytestmark = pytest.mark.faults

SPLIT_FILES = ("05_model_input/objects_split.parquet", "08_reporting/split_report.json")


def _stage(root: Path, names: list[str], token: str, content: str) -> Publication:
    moves = []
    for name in names:
        final = root / name
        final.write_text(f"old {name}")
        staged = Path(staged_path(str(final), token))
        staged.write_text(f"{content} {name}")
        moves.append(Move(str(staged), str(final)))
    return Publication("tables", tuple(moves), tuple(names))


def test_a_publication_killed_halfway_is_completed_by_the_next_start(tmp_path, monkeypatch):
    """Promise: a process killed between two moves of a set leaves a journal, and the
    next start completes the set: every file is then the new one, none is left staged."""
    fs = fsspec.filesystem("file")
    pub = _stage(tmp_path, ["a.parquet", "a_report.json", "a_quarantine.parquet"], "t1", "new")
    real_move = publication._move
    calls = []

    def dies_at_the_second(fs_, source, destination):
        calls.append(destination)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")  # as a kill would stop it
        real_move(fs_, source, destination)

    monkeypatch.setattr(publication, "_move", dies_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        Publisher(fs, str(tmp_path)).publish(pub)
    monkeypatch.setattr(publication, "_move", real_move)
    assert (tmp_path / "a.parquet").read_text() == "new a.parquet"
    assert (tmp_path / "a_report.json").read_text() == "old a_report.json"  # torn, for now

    done = Publisher(fs, str(tmp_path)).recover()
    assert [p.set_name for p in done] == ["tables"]
    for name in pub.datasets:
        assert (tmp_path / name).read_text() == f"new {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*pub.datasets, JOURNAL_FOLDER])
    assert list((tmp_path / JOURNAL_FOLDER).iterdir()) == []


def test_files_staged_by_a_run_killed_before_publishing_are_removed(tmp_path):
    """Promise: a run killed before its set's journal exists leaves every published file
    as it was; its staged files are removed at the next start."""
    fs = fsspec.filesystem("file")
    pub = _stage(tmp_path, ["b.parquet", "b_report.json"], "t2", "half-written")
    publisher = Publisher(fs, str(tmp_path))
    assert publisher.recover() == []
    removed = publisher.remove_orphans([m.final for m in pub.moves])
    assert sorted(Path(p).name for p in removed) == sorted(Path(m.staged).name for m in pub.moves)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        n: f"old {n}" for n in pub.datasets
    }


def test_an_unreadable_journal_is_named(tmp_path):
    """Promise: a damaged journal stops the start with its path, not a bare JSON error."""
    (tmp_path / JOURNAL_FOLDER).mkdir()
    (tmp_path / JOURNAL_FOLDER / "split.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"split\.json is not readable"):
        Publisher(fsspec.filesystem("file"), str(tmp_path)).recover()


def test_a_staged_table_makes_its_generation_current_only_when_published(tmp_path):
    """Promise: a new object table waiting to be published leaves the stamp store's
    current generation alone; publishing it makes its generation current."""
    store = StampStoreDataset(
        path=str(tmp_path / "stamps"),
        dataset="stronglens_calibration.datasets.NpyDataset",
        filename_suffix=".npy",
    )
    table = ObjectTableDataset(
        filepath=str(tmp_path / "t.parquet"), stamp_store=str(tmp_path / "stamps")
    )
    rows = pd.DataFrame({"object_id": ["a"], "shard": [0], "offset": [0]})
    old, new = "20261201T000000Z-aaaaaa", "20261202T000000Z-bbbbbb"
    store.save({f"{old}/part-00000": np.zeros((1, 3, 5, 5), np.float32)})
    table.save(rows.assign(stamp_store=old))
    store.save({f"{new}/part-00000": np.ones((1, 3, 5, 5), np.float32)})

    staged = StagedOutput(table, "ingest", "t3")
    staged.save(rows.assign(stamp_store=new))
    assert staged.awaiting_publication
    assert store.load().store_id == old
    assert table.load()["stamp_store"].tolist() == [old]
    assert staged.load()["stamp_store"].tolist() == [new]  # downstream nodes see the new one

    Publisher(fsspec.filesystem("file"), str(tmp_path)).publish(
        Publication("ingest", (Move(staged.staged_file, staged.final),), ("objects_ingested",))
    )
    staged.mark_published()
    table.after_published()
    assert table.load()["stamp_store"].tolist() == [new]
    assert store.load().store_id == new


def test_every_declared_set_member_can_be_staged(project_parameters, tmp_path):
    """Promise: each catalog entry of an output set is one unversioned file, and the
    sets are those docs/reliability.md describes (a table with its report)."""
    catalog = project_catalog(tmp_path, project_parameters)
    names = set(catalog.keys()) | {"ingest_report", "quality_report", "split_report"}
    members = declared_members(catalog, names)
    sets: dict[str, set[str]] = {}
    for name, set_name in members.items():
        sets.setdefault(set_name, set()).add(name)
    assert sets["ingest"] == {"objects_ingested", "ingest_quarantine", "ingest_report"}
    assert sets["quality"] == {"stamp_statistics", "objects_qc", "quarantine", "quality_report"}
    assert sets["split"] == {"objects_split", "split_report"}
    assert {"lens_finder", "training_history"} == sets["train"]


def _run_with_output_sets(pipeline, root: Path, params: dict) -> None:
    """``pipeline`` as ``kedro run`` runs it, with the output-set hook around it."""
    catalog = project_catalog(root, params)
    hook = OutputSetHook()
    manager = _create_hook_manager()
    manager.register(hook)
    run_params = {"runtime_params": {"data_root": str(root)}, "pipeline_names": ["split"]}
    hook.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
    try:
        SequentialRunner().run(pipeline, catalog, hook_manager=manager)
    except Exception as exc:
        hook.on_pipeline_error(error=exc, run_params=run_params, pipeline=pipeline, catalog=catalog)
        raise
    hook.after_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)


def _files(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in SPLIT_FILES}


def _staged_left(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.staged-*"))


@pytest.mark.slow
def test_a_split_that_fails_before_its_report_leaves_the_previous_table_and_report(
    tmp_path, small_parameters, monkeypatch
):
    """Promise: a run that dies between writing a table and writing its report (here the
    split's report node fails) leaves the previous table and report byte for byte, and no
    staged file; the same run without the fault replaces both, and the report describes
    the table beside it."""
    from stronglens_calibration.pipelines.split import pipeline as split_wiring
    from stronglens_calibration.tracking.hooks import table_fingerprint

    root, params = tmp_path, small_parameters
    run_pipelines(["mock_survey", "ingest", "quality"], root, params)
    _run_with_output_sets(split_wiring.create_pipeline(), root, params)
    before = _files(root)
    changed = copy.deepcopy(params)
    changed["split"]["seed"] = params["split"]["seed"] + 1  # most objects change part

    def report_fails(*args, **kwargs):
        raise OSError("database is locked")  # as the tracking store's lock did

    monkeypatch.setattr(split_wiring, "build_split_report", report_fails)
    with pytest.raises(Exception, match="database is locked"):
        _run_with_output_sets(split_wiring.create_pipeline(), root, changed)
    assert _files(root) == before
    assert _staged_left(root) == []
    assert not list((root / JOURNAL_FOLDER).glob("*.json"))

    monkeypatch.undo()
    _run_with_output_sets(split_wiring.create_pipeline(), root, changed)
    after = _files(root)
    assert all(after[name] != before[name] for name in SPLIT_FILES)
    table = pd.read_parquet(root / SPLIT_FILES[0])
    report = json.loads(after[SPLIT_FILES[1]])
    assert report["describes"]["objects_split"] == table_fingerprint(table)
    assert _staged_left(root) == []
