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


class SmallestKeys:
    """Keeps, per group, the ``capacity`` rows with the smallest ``key``, over a stream.

    Memory is bounded by the capacities, whatever the length of the stream; the result
    equals sorting the whole stream by key, whatever the order the rows arrive in. A row
    whose ``object_id`` is already held (a duplicated catalogue row: same id, same key) is
    not kept twice; it is recorded in :attr:`duplicates`.
    """

    def __init__(self, capacity: Mapping[str, int]) -> None:
        self.capacity = dict(capacity)
        self._kept: dict[str, pd.DataFrame] = {}
        self.duplicates: list[dict] = []

    def offer(self, rows: pd.DataFrame, group: np.ndarray) -> None:
        """Offer ``rows`` (with a ``key`` column), each in group ``group[i]``."""
        for name, part in rows.groupby(pd.Series(group, index=rows.index), sort=False):
            cap = self.capacity.get(str(name), 0)
            if cap <= 0:
                continue
            kept = self._kept.get(str(name))
            merged = part if kept is None else pd.concat([kept, part])
            merged = merged.nsmallest(cap, "key", keep="all")
            dup = merged["object_id"].duplicated().to_numpy()
            if dup.any():
                self.duplicates.extend(merged[dup].to_dict("records"))
                merged = merged[~dup]
            self._kept[str(name)] = merged.head(cap)

    def full(self, needed: Mapping[str, int]) -> bool:
        """Whether every group holds at least ``needed[group]`` rows."""
        return all(len(self._kept.get(g, ())) >= n for g, n in needed.items() if n > 0)

    def take(self, group: str, n: int, exclude: set[str] | None = None) -> pd.DataFrame:
        """The ``n`` smallest-key rows of a group, skipping ``object_id`` in ``exclude``."""
        kept = self._kept.get(group)
        if kept is None or n <= 0:
            return pd.DataFrame()
        if exclude:
            kept = kept[~kept["object_id"].isin(exclude)]
        return kept.sort_values("key", kind="stable").head(n)

    def available(self, group: str) -> int:
        """Rows held for a group."""
        return len(self._kept.get(group, ()))
