"""Row chunks on threads: coverage, order and validation."""

import threading

import numpy as np
import pytest

from stronglens_calibration.stamps.row_chunks import (
    MIN_ROWS_PER_THREAD,
    concatenate_columns,
    map_row_chunks,
)


@pytest.mark.parametrize("n", [0, 1, MIN_ROWS_PER_THREAD * 2 - 1, 100, 513])
@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_chunks_cover_every_row_once_in_order(n, threads):
    parts = map_row_chunks(lambda rows: np.arange(n)[rows], n, threads)
    np.testing.assert_array_equal(np.concatenate(parts), np.arange(n))
    assert len(parts) == max(1, min(threads, n // MIN_ROWS_PER_THREAD))


def test_chunks_run_on_several_threads():
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(rows: slice) -> int:
        seen.add(threading.get_ident())
        barrier.wait()  # both chunks must be running at once to pass
        return rows.stop - rows.start

    assert sum(map_row_chunks(work, 64, 2)) == 64
    assert len(seen) == 2


def test_columns_are_concatenated_in_row_order():
    parts = [{"a": np.array([1, 2]), "b": np.array([0.5, 1.5])}, {"a": np.array([3]), "b": [2.5]}]
    out = concatenate_columns(parts)
    np.testing.assert_array_equal(out["a"], [1, 2, 3])
    np.testing.assert_array_equal(out["b"], [0.5, 1.5, 2.5])


@pytest.mark.parametrize("threads", [0, -2, 2.0, False])
def test_threads_must_be_a_positive_integer(threads):
    with pytest.raises(ValueError, match="'threads'"):
        map_row_chunks(lambda rows: rows, 10, threads)
