"""Generations of the stamp store: each ingest writes a new one beside the last, and the
object table that describes it is what makes it current.

Layout under the store's folder (local or ``s3://``)::

    stamps/
      CURRENT                     the id of the generation the object table describes
      20261202T071500Z-3fa9c1/    one generation: part-00000.npy, part-00001.npy, ...
      20261203T092233Z-b81e07/    a newer one being written (or left by a killed ingest)

An ingest names its generation in the plan (``stamp_store``), writes every shard into
that folder and never touches the others; writing ``objects_ingested`` (which carries
the id in its ``stamp_store`` column) then points ``CURRENT`` at it and removes every
other generation. An ingest that fails or is killed before that leaves the previous
table, the previous store and ``CURRENT`` as they were. Every consumer reads the stamps
of the generation its own table names (:func:`shards_for_table`) and refuses a table
whose generation is gone.

Kedro-free: the datasets in ``datasets/`` call these functions with their filesystem.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: File naming the current generation.
POINTER = "CURRENT"

#: Column of the object tables naming the generation their ``shard``/``offset`` point into.
STORE_COLUMN = "stamp_store"

_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def new_store_id(now: float | None = None) -> str:
    """A new generation id: UTC time of creation and 6 random hex digits
    (``20261202T071500Z-3fa9c1``); ids sort by creation time."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(3)}"


def is_store_id(text: str) -> bool:
    """Whether ``text`` is a generation id of :func:`new_store_id`'s form."""
    return bool(_ID.match(text))


def split_partition(partition_id: str) -> tuple[str | None, str]:
    """``(generation, shard name)`` of a partition id (``<id>/part-00000``); a shard of
    the flat layout of earlier versions has generation ``None``."""
    head, sep, tail = partition_id.partition("/")
    if sep and is_store_id(head) and "/" not in tail:
        return head, tail
    return None, partition_id


class StampShards(Mapping[str, Callable[[], np.ndarray]]):
    """The shards of one generation of the stamp store, by name (``part-00000``), with
    the other generations present in the store.

    Attributes
    ----------
    store_id : str or None
        The generation these shards belong to (``None``: a store of the flat layout).
    generations : dict
        Every generation present: id to ``{shard name: loader}``.
    location : str
        The store's folder, for messages.
    """

    def __init__(
        self,
        store_id: str | None,
        generations: dict[str | None, dict[str, Callable[[], np.ndarray]]],
        location: str = "the stamp store",
    ) -> None:
        self.store_id = store_id
        self.generations = generations
        self.location = location
        self._shards = generations.get(store_id, {})

    def __getitem__(self, name: str) -> Callable[[], np.ndarray]:
        return self._shards[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._shards)

    def __len__(self) -> int:
        return len(self._shards)

    def generation(self, store_id: str) -> StampShards:
        """The shards of another generation present in the store."""
        if store_id not in self.generations:
            raise KeyError(f"{self.location} holds no generation {store_id!r}")
        return StampShards(store_id, self.generations, self.location)


class StoreMismatchError(ValueError):
    """An object table that does not describe the stamps present."""


def table_store_id(objects: pd.DataFrame, table: str) -> str | None:
    """The one generation a table's stamped rows point into (``None``: the table has no
    ``stamp_store`` column, or no row with a stamp)."""
    if STORE_COLUMN not in objects:
        return None
    stamped = objects[STORE_COLUMN].fillna("").astype(str)
    if "shard" in objects:
        stamped = stamped[objects["shard"].to_numpy() >= 0]
    ids = sorted(set(stamped) - {""})
    if len(ids) > 1:
        raise StoreMismatchError(
            f"{table} points into {len(ids)} stamp-store generations ({', '.join(ids)}); a "
            "table describes one ingest's store. Rerun `kedro run --pipelines ingest`."
        )
    return ids[0] if ids else None


def shards_for_table(
    objects: pd.DataFrame, stamps: Mapping[str, Callable[[], np.ndarray]], table: str
) -> Mapping[str, Callable[[], np.ndarray]]:
    """The stamp shards that ``objects`` (the dataset named ``table``) describes.

    A table names its generation in ``stamp_store``; its shards are returned when the
    store holds them, whether or not they are current (an ingest killed between writing
    its table and moving ``CURRENT`` leaves both consistent). A plain mapping of shards
    (tests, notebooks) or a table without the column is taken as it is.

    Raises
    ------
    StoreMismatchError
        When the store no longer holds the table's generation (the table is older than
        the last ingest, or was copied from another data root).
    """
    wanted = table_store_id(objects, table)
    if wanted is None or not isinstance(stamps, StampShards) or wanted == stamps.store_id:
        return stamps
    if wanted in stamps.generations:
        logger.warning(
            "%s describes stamp-store generation %s, which %s holds but CURRENT (%s) does "
            "not name (an ingest stopped after writing its table); using %s",
            table,
            wanted,
            stamps.location,
            stamps.store_id,
            wanted,
        )
        return stamps.generation(wanted)
    present = ", ".join(str(g) for g in stamps.generations) or "none"
    raise StoreMismatchError(
        f"{table} describes stamp-store generation {wanted!r}, but {stamps.location} holds "
        f"{present} (current: {stamps.store_id!r}): the table and the stamps come from "
        "different ingests, so its shard/offset columns would point at other objects' "
        "pixels. Rerun `kedro run --pipelines ingest` and the pipelines after it (or point "
        "`data_root` at the folder the table came from)."
    )


def read_pointer(fs: Any, root: str) -> str | None:
    """The current generation named by ``<root>/CURRENT`` (``None`` when absent)."""
    path = f"{root.rstrip('/')}/{POINTER}"
    try:
        text = fs.cat_file(path).decode().strip()
    except FileNotFoundError:
        return None
    if not is_store_id(text):
        raise ValueError(f"{path} does not hold a stamp-store generation id: {text[:40]!r}")
    return text


def write_pointer(fs: Any, root: str, store_id: str) -> None:
    """Point ``CURRENT`` at ``store_id``: written beside and renamed into place on a
    local disk (atomic), one PUT on an object store (atomic per object)."""
    if not is_store_id(store_id):
        raise ValueError(f"'store_id' must be a generation id, got {store_id!r}")
    from stronglens_calibration.storage.atomic_write import write_atomically

    write_atomically(fs, f"{root.rstrip('/')}/{POINTER}", (store_id + "\n").encode())
    fs.invalidate_cache(root)


def commit_generation(fs: Any, root: str, store_id: str) -> list[str]:
    """Make ``store_id`` current and remove every other generation (and the shards of
    the flat layout); the ids removed.

    Raises
    ------
    FileNotFoundError
        When the generation holds no shard (nothing to commit).
    """
    root = root.rstrip("/")
    folder = f"{root}/{store_id}"
    if not fs.exists(folder) or not fs.ls(folder):
        raise FileNotFoundError(
            f"stamp-store generation {store_id!r} has no shard under {root}; the ingest "
            "that names it did not write its stamps"
        )
    write_pointer(fs, root, store_id)
    removed = []
    for entry in fs.ls(root, detail=False):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if name in (store_id, POINTER):
            continue
        if is_store_id(name) or re.match(r"^part-\d+\.npy$", name):
            fs.rm(entry, recursive=True)
            removed.append(name)
    fs.invalidate_cache(root)
    if removed:
        logger.info("stamp store: %s is current; removed %s", store_id, ", ".join(removed))
    return removed
