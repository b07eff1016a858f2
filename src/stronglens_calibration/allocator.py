"""Keeping large freed blocks in the process for reuse (glibc ``mallopt``).

glibc serves every allocation above its mmap threshold (at most 32 MiB by default) with
a fresh ``mmap`` and unmaps it when freed, so every batch of stamps, every network
activation and every temporary of the statistics is faulted in page by page again. At
the sizes the scan works with (a 512-stamp shard of 101 x 101 x 3 float32 is 63 MB; a
batch's convolution activations are larger), the page faults can cost more than the
arithmetic: on a 2-core virtual machine the bare forward pass of the compact ResNet ran
2.5 times faster with large blocks kept (``benchmarks/scan_throughput.py``).

Raising the mmap and trim thresholds makes glibc keep those blocks in its heap and hand
them out again. The process's resident memory then stays at its peak instead of
falling between batches; the peak itself does not grow, because the scan's working set
is bounded by its shard and batch sizes. This is the in-process form of preloading
jemalloc or tcmalloc, which the PyTorch CPU performance guide recommends for inference.
Other C libraries (macOS, musl) are left as they are.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)

#: ``mallopt`` parameter numbers from glibc's ``malloc.h``.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied: set[int] = set()


def retain_freed_memory(threshold_mib: int) -> bool:
    """Keep freed blocks up to ``threshold_mib`` MiB in the heap for reuse.

    Idempotent per threshold and per process; call it in each process that scores
    (the driver, each Spark Python worker).

    Parameters
    ----------
    threshold_mib : int
        Allocations up to this size (MiB, at most 1024) come from the heap and stay
        there when freed; ``0`` leaves the allocator as it is.

    Returns
    -------
    bool
        Whether the setting is in force (False on C libraries other than glibc).
    """
    if isinstance(threshold_mib, bool) or not isinstance(threshold_mib, int):
        raise TypeError(f"'threshold_mib' must be an integer, got {threshold_mib!r}")
    if not 0 <= threshold_mib <= 1024:
        # mallopt takes a C int: 1 GiB is the largest round value it holds
        raise ValueError(f"'threshold_mib' must be in [0, 1024], got {threshold_mib}")
    if threshold_mib == 0:
        return False
    if threshold_mib in _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.info("no glibc mallopt in this process: the allocator is left as it is")
        return False
    size = threshold_mib * 1024 * 1024
    if not (mallopt(_M_MMAP_THRESHOLD, size) and mallopt(_M_TRIM_THRESHOLD, size)):
        logger.info("glibc refused an mmap threshold of %d MiB: allocator unchanged", threshold_mib)
        return False
    _applied.add(threshold_mib)
    logger.info("freed blocks up to %d MiB are kept for reuse (glibc mallopt)", threshold_mib)
    return True
