"""The object table dataset: replaced whole, and committing its stamp-store generation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError

from stronglens_calibration.datasets import ObjectTableDataset, StampStoreDataset
from stronglens_calibration.stamps.generations import StoreMismatchError, shards_for_table


def test_a_failed_save_leaves_the_previous_table(tmp_path):
    """A table that cannot be written (here a column parquet cannot hold) leaves the
    previous file as it was and no partial file beside it."""
    path = tmp_path / "objects.parquet"
    table = ObjectTableDataset(filepath=str(path))
    table.save(pd.DataFrame({"object_id": ["a", "b"], "x": [1.0, 2.0]}))
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="Failed while saving"):
        table.save(pd.DataFrame({"object_id": ["c"], "x": [object()]}))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["objects.parquet"]


def test_the_table_commits_its_generation_and_consumers_follow_it(tmp_path):
    """Shards written into a new generation are not current until the table naming it is
    saved; then the old generation is gone and a table naming it is refused."""
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
    loaded = store.load()
    assert loaded.store_id == old and set(loaded.generations) == {old, new}
    assert float(loaded["part-00000"]()[0, 0, 0, 0]) == 0.0
    table.save(rows.assign(stamp_store=new))
    loaded = store.load()
    assert loaded.store_id == new and set(loaded.generations) == {new}
    assert (
        float(
            shards_for_table(rows.assign(stamp_store=new), loaded, "t")["part-00000"]()[0, 0, 0, 0]
        )
        == 1.0
    )
    with pytest.raises(StoreMismatchError, match="t describes stamp-store generation"):
        shards_for_table(rows.assign(stamp_store=old), loaded, "t")
    with pytest.raises(DatasetError, match="is the current stamp store"):
        store.save({f"{new}/part-00001": np.ones((1, 3, 5, 5), np.float32)})
