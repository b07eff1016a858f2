"""One run at a time on a data root: a lock file created atomically, naming its holder.

The lock is ``<data root>/.stronglens-run.lock``, a small JSON record (host, process id,
user, start time, command, and the MLflow run once it exists). It is created with an
exclusive create: ``O_CREAT | O_EXCL`` on a local disk, a conditional PUT
(``If-None-Match: *``) on S3, so two runs that start together cannot both get it. The
holder removes it when its run ends, however it ends short of being killed; a lock left
by a killed run on this machine (its process is gone) is taken over with a warning, and
the run it recorded is reported so that it can be marked failed. A lock held from another
machine is never broken automatically: the message says how to remove it.

Kedro-free.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from stronglens_calibration.storage.atomic_write import is_local, write_atomically

logger = logging.getLogger(__name__)

#: File name of the lock inside the data root.
LOCK_NAME = ".stronglens-run.lock"


@dataclass
class LockHolder:
    """Who holds a data root.

    Attributes
    ----------
    host, pid, user : str, int, str
        The machine, process and user of the run.
    started_utc : str
        When the lock was taken (ISO 8601, UTC).
    command : str
        What runs (the pipelines).
    token : str
        Random id of this lock (a holder releases only its own).
    mlflow_run_id : str
        The MLflow run of the holder, once opened (``""`` before).
    """

    host: str
    pid: int
    user: str
    started_utc: str
    command: str
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    mlflow_run_id: str = ""

    @classmethod
    def here(cls, command: str) -> LockHolder:
        """A holder record for this process."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(
            host=socket.gethostname(),
            pid=os.getpid(),
            user=user,
            started_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            command=command,
        )

    def describe(self) -> str:
        """One line naming the holder."""
        return (
            f"{self.command!r} by {self.user} on {self.host} (pid {self.pid}), "
            f"started {self.started_utc}"
            + (f", MLflow run {self.mlflow_run_id}" if self.mlflow_run_id else "")
        )

    def is_dead_here(self) -> bool:
        """The holder ran on this machine and its process no longer exists."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


class DataRootLocked(RuntimeError):
    """Another run holds the data root."""

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        super().__init__(message)
        self.holder = holder


def _create_exclusive(fs: Any, path: str, data: bytes) -> None:
    """Create ``path`` with ``data``; ``FileExistsError`` when it exists."""
    if is_local(fs):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    else:
        fs.pipe_file(path, data, mode="create")
    fs.invalidate_cache(path)


def read_holder(fs: Any, path: str) -> LockHolder | None:
    """The holder recorded in a lock file (``None`` when there is none; a file that is
    not a lock record gives a holder named ``unknown``)."""
    try:
        raw = fs.cat_file(path)
    except FileNotFoundError:
        return None
    try:
        record = json.loads(raw)
        return LockHolder(**{k: record[k] for k in LockHolder.__dataclass_fields__ if k in record})
    except (ValueError, TypeError):
        return LockHolder("unknown", -1, "unknown", "unknown", "unreadable lock file", "")


class DataRootLock:
    """The lock of one data root.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        The data root's filesystem.
    root : str
        The data root on ``fs`` (no protocol).
    display_root : str, optional
        How to name the data root in messages (e.g. with its ``s3://``).
    """

    def __init__(self, fs: Any, root: str, display_root: str | None = None) -> None:
        self.fs = fs
        self.path = f"{root.rstrip('/')}/{LOCK_NAME}"
        self.display = f"{(display_root or root).rstrip('/')}/{LOCK_NAME}"
        self.holder: LockHolder | None = None
        #: A dead holder this lock took over (its MLflow run may need marking failed).
        self.taken_over: LockHolder | None = None

    def acquire(self, command: str) -> LockHolder:
        """Take the lock for this process, taking over one left by a dead process here.

        Raises
        ------
        DataRootLocked
            When a live run (or one on another machine) holds it.
        """
        holder = LockHolder.here(command)
        for _ in range(2):
            try:
                _create_exclusive(self.fs, self.path, json.dumps(asdict(holder)).encode())
            except FileExistsError:
                current = read_holder(self.fs, self.path)
                if current is not None and current.is_dead_here():
                    logger.warning(
                        "data root lock %s was left by a run that no longer exists (%s); "
                        "taking it over",
                        self.display,
                        current.describe(),
                    )
                    self.taken_over = current
                    self.fs.rm(self.path)
                    continue
                if current is None:
                    continue  # released between the create and the read: try again
                raise DataRootLocked(
                    f"another run holds the data root: {current.describe()}. Wait for it to "
                    f"finish, or use another `data_root`. If that run is gone (a machine that "
                    f"was lost), remove {self.display} and start again.",
                    current,
                ) from None
            self.holder = holder
            return holder
        raise DataRootLocked(f"could not take the data root lock {self.display}", None)

    def record_run(self, mlflow_run_id: str) -> None:
        """Add the holder's MLflow run to the lock file (for whoever finds it stale)."""
        if self.holder is None or not mlflow_run_id:
            return
        current = read_holder(self.fs, self.path)
        if current is None or current.token != self.holder.token:
            return
        self.holder.mlflow_run_id = mlflow_run_id
        write_atomically(self.fs, self.path, json.dumps(asdict(self.holder)).encode())

    def release(self) -> None:
        """Remove the lock if this process holds it (idempotent)."""
        if self.holder is None:
            return
        try:
            current = read_holder(self.fs, self.path)
            if current is not None and current.token == self.holder.token:
                self.fs.rm(self.path)
        except OSError as exc:  # the run's own outcome matters more than the lock's
            logger.warning("could not remove the data root lock %s: %s", self.display, exc)
        finally:
            self.holder = None
