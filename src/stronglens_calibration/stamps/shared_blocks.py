"""Shared-memory blocks that decoding workers fill with a shard's pixels.

Each block is named after the process that created it (``slc-stamps-<pid>-<n>-<tag>``),
so that blocks are released on every exit path: by their creator when a shard is
collected, when decoding stops on an error or Ctrl-C, and, for a run killed outright
(SIGKILL, SIGTERM, a lost machine), by the next decoder on the same machine, which
removes the blocks whose creating process no longer exists.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
from multiprocessing import shared_memory
from pathlib import Path

logger = logging.getLogger(__name__)

#: Name prefix of the project's blocks (POSIX shared memory lives in ``/dev/shm``).
PREFIX = "slc-stamps"

_counter = itertools.count()


def create_block(n_bytes: int) -> shared_memory.SharedMemory:
    """A new block of ``n_bytes`` (at least 1) named after this process."""
    name = f"{PREFIX}-{os.getpid()}-{next(_counter)}-{secrets.token_hex(3)}"
    return shared_memory.SharedMemory(name=name, create=True, size=max(int(n_bytes), 1))


def release_block(block: shared_memory.SharedMemory) -> None:
    """Close and remove a block (already removed is fine)."""
    try:
        block.close()
    finally:
        try:
            block.unlink()
        except FileNotFoundError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, not ours to clean
    return True


def remove_stale_blocks(folder: str | Path = "/dev/shm") -> list[str]:
    """Remove the blocks left by processes that no longer exist; their names.

    Parameters
    ----------
    folder : str or Path
        Where the system keeps POSIX shared memory (``/dev/shm`` on Linux; elsewhere
        there is nothing to list and nothing is removed).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.glob(f"{PREFIX}-*"):
        parts = entry.name.split("-")
        try:
            pid = int(parts[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            entry.unlink()
        except FileNotFoundError:
            continue
        removed.append(entry.name)
    if removed:
        logger.warning(
            "removed %d shared-memory block(s) left by a killed run (%s)",
            len(removed),
            ", ".join(removed[:3]),
        )
    return removed
