"""Deterministic, order-independent sampling with a keyed hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd


def keyed_uniform(ids: Iterable[str], seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per id from ``sha256(f"{seed}:{id}")``.

    Stable across processes, machines and Python versions (unlike the salted ``hash()``),
    and independent of the order in which ids are seen.
    """
    out = [
        int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") / 2.0**64
        for i in ids
    ]
    return np.asarray(out, dtype=np.float64)


_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def keyed_uniform_ints(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per 64-bit integer id, keyed by ``seed``.

    Vectorised (splitmix64 of the id mixed with a splitmix64 of the seed), stable across
    processes, machines and versions, and independent of order: the same role as
    :func:`keyed_uniform` for the millions of integer-identified sweep rows.
    """
    key = _splitmix64(np.array([seed], dtype=np.uint64) & _MASK64)[0]
    mixed = _splitmix64(np.asarray(ids, dtype=np.int64).view(np.uint64) ^ key)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(2**53)


class SmallestKeys:
    """Keeps, per group, the ``capacity`` rows with the smallest ``key``, over a stream.

    Memory is bounded by the capacities (rows are buffered and pruned in vectorised
    passes), whatever the length of the stream; the result equals sorting the whole
    stream by key, whatever the order the rows arrive in. A row whose ``object_id`` is
    held already (a duplicated catalogue row: same id, same key) is kept once; the extra
    copies are recorded in :attr:`duplicates`.

    Parameters
    ----------
    capacity : Mapping
        Capacity per group.
    default_capacity : int
        Capacity of groups not in ``capacity``.
    id_column : str
        Column identifying an object (duplicates share it).
    """

    def __init__(
        self, capacity: Mapping[str, int], default_capacity: int = 0, id_column: str = "object_id"
    ) -> None:
        self.capacity = dict(capacity)
        self.default_capacity = default_capacity
        self.id_column = id_column
        self.duplicates: list[dict] = []
        self._kept = pd.DataFrame()
        self._pending: list[pd.DataFrame] = []
        self._n_pending = 0

    def _cap(self, groups: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(groups)
        caps = np.array([self.capacity.get(g, self.default_capacity) for g in uniques], dtype=int)
        return caps[codes]

    def offer(self, rows: pd.DataFrame, group: np.ndarray) -> None:
        """Offer ``rows`` (with id and ``key`` columns), row ``i`` in ``group[i]``."""
        if not len(rows):
            return
        rows = rows.assign(_group=np.asarray(group, dtype=object).astype(str))
        rows = rows[self._cap(rows["_group"]) > 0]
        if not len(rows):
            return
        self._pending.append(rows)
        self._n_pending += len(rows)
        held = len(self._kept)
        if self._n_pending > max(4 * held, 50_000):
            self._prune()

    def _prune(self) -> None:
        if not self._pending:
            return
        rows = pd.concat([self._kept, *self._pending], ignore_index=True)
        self._pending, self._n_pending = [], 0
        rows = rows.sort_values(["_group", "key", self.id_column], kind="stable")
        dup = rows.duplicated(subset=["_group", self.id_column]).to_numpy()
        if dup.any():
            self.duplicates.extend(rows[dup].drop(columns="_group").to_dict("records"))
            rows = rows[~dup]
        rank = rows.groupby("_group", sort=False).cumcount().to_numpy()
        self._kept = rows[rank < self._cap(rows["_group"])].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """Rows held per group."""
        self._prune()
        if not len(self._kept):
            return {}
        return {str(g): int(n) for g, n in self._kept["_group"].value_counts().items()}

    def full(self, needed: Mapping[str, int]) -> bool:
        """Whether every group holds at least ``needed[group]`` rows."""
        counts = self.counts()
        return all(counts.get(g, 0) >= n for g, n in needed.items() if n > 0)

    def take(self, group: str, n: int, exclude: set[str] | None = None) -> pd.DataFrame:
        """The ``n`` smallest-key rows of a group, skipping ids in ``exclude``."""
        self._prune()
        if n <= 0 or not len(self._kept):
            return pd.DataFrame()
        rows = self._kept[self._kept["_group"] == group]
        if exclude:
            rows = rows[~rows[self.id_column].isin(exclude)]
        return rows.head(n).drop(columns="_group")

    def held(self) -> pd.DataFrame:
        """Every row held, with its ``_group`` column (to be offered to another reservoir)."""
        self._prune()
        return self._kept.copy()

    def available(self, group: str) -> int:
        """Rows held for a group."""
        return self.counts().get(group, 0)
