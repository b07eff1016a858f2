"""Replacing a file whole: a reader sees the old content or the new, never half of it."""

from __future__ import annotations

import os
import secrets
from typing import Any


def is_local(fs: Any) -> bool:
    """Whether an fsspec filesystem is the local disk."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols


def write_atomically(fs: Any, path: str, data: bytes) -> None:
    """Replace ``path`` with ``data``: on a local disk written beside it, flushed and
    renamed into place (atomic on one filesystem); on an object store one PUT (atomic per
    object)."""
    if is_local(fs):
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        fs.pipe_file(path, data)
    fs.invalidate_cache(path)
