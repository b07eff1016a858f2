"""Base class for single-file datasets read and written through fsspec."""

from __future__ import annotations

from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractDataset, get_filepath_str, get_protocol_and_path

from stronglens_calibration.storage.uri import normalise_uri


class FsspecFileDataset(AbstractDataset):
    """One file on any fsspec filesystem (local, ``s3://``, ``s3a://``, ...).

    Parameters
    ----------
    filepath : str
        Path or URI of the file.
    credentials : dict, optional
        Passed to the fsspec filesystem (e.g. ``key``, ``secret``, ``client_kwargs``).
    fs_args : dict, optional
        Extra filesystem arguments.
    metadata : dict, optional
        Free-form metadata (kedro-viz shows it).
    """

    def __init__(
        self,
        filepath: str,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        fs_args = deepcopy(fs_args) or {}
        protocol, path = get_protocol_and_path(normalise_uri(filepath))
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **fs_args)
        self._filepath = PurePosixPath(path)
        self.metadata = metadata

    @property
    def _path(self) -> str:
        return get_filepath_str(self._filepath, self._protocol)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}

    def _exists(self) -> bool:
        return self._fs.exists(self._path)

    def file_size(self) -> int:
        """The file's size in bytes, from the filesystem (the file is not read)."""
        return int(self._fs.size(self._path))

    def read_bytes(self) -> bytes:
        """The file's content."""
        with self._fs.open(self._path, mode="rb") as f:
            return f.read()

    def write_bytes(self, data: bytes) -> None:
        """Replace the file's content."""
        with self._fs.open(self._path, mode="wb") as f:
            f.write(data)
        self._fs.invalidate_cache(self._path)
