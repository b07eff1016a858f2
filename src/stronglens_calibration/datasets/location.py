"""Where a dataset keeps its data: the filesystem and the path, for the code that reads
or probes the files behind any catalog entry (pre-flight checks, MLflow artifacts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import AbstractDataset, get_filepath_str


@dataclass(frozen=True)
class Location:
    """A dataset's storage.

    Attributes
    ----------
    fs : fsspec.AbstractFileSystem
        Its filesystem.
    path : str
        Path (with the protocol for remote filesystems) of its file, or of its folder.
    protocol : str
        ``file``, ``s3``, ...
    is_file : bool
        One file (its current version) rather than a folder of partitions.
    """

    fs: Any
    path: str
    protocol: str
    is_file: bool


def dataset_location(dataset: Any) -> Location | None:
    """The storage of a file- or folder-backed dataset (kedro-datasets' and the project's
    own); ``None`` for in-memory and other datasets. An entry standing in for another
    during a run (a staged output) has the storage of the entry it stands in for."""
    inner = getattr(dataset, "published", None)
    if isinstance(inner, AbstractDataset):
        dataset = inner
    fs = getattr(dataset, "_fs", None) or getattr(dataset, "_filesystem", None)
    if fs is None:
        return None
    protocol = str(getattr(dataset, "_protocol", "file"))
    filepath = getattr(dataset, "_filepath", None)
    if filepath is not None:
        path = dataset._get_load_path() if getattr(dataset, "_version", None) else filepath
        return Location(fs, get_filepath_str(PurePosixPath(path), protocol), protocol, True)
    folder = getattr(dataset, "_normalized_path", None) or getattr(dataset, "_path", None)
    return Location(fs, str(folder), protocol, False) if folder else None
