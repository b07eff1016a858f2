"""Work on a batch of stamps shared by threads, in contiguous row chunks.

numpy releases the GIL in its passes over pixels (reductions, ``take``, ``partition``,
arithmetic), so per-row work on a batch scales with threads. Results are concatenated
in row order and do not depend on the number of threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

T = TypeVar("T")

#: Fewest rows worth a thread of their own.
MIN_ROWS_PER_THREAD = 16


def map_row_chunks(fn: Callable[[slice], T], n: int, threads: int) -> list[T]:
    """``fn`` of contiguous row slices covering ``range(n)``, on up to ``threads`` threads.

    Parameters
    ----------
    fn : callable
        Called with a ``slice`` of rows; must only read shared inputs.
    n : int
        Number of rows.
    threads : int
        Most threads to use (>= 1); fewer when a chunk would hold fewer than
        :data:`MIN_ROWS_PER_THREAD` rows.

    Returns
    -------
    list
        ``fn``'s results in row order (one element when run in this thread).
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"'threads' must be an integer >= 1, got {threads!r}")
    chunks = min(threads, n // MIN_ROWS_PER_THREAD)
    if chunks < 2:
        return [fn(slice(0, n))]
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, n, chunks + 1).astype(int)
    slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ThreadPoolExecutor(chunks) as pool:
        return list(pool.map(fn, slices))


def concatenate_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Column-wise concatenation of dicts of equal keys (row chunks of one table)."""
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
