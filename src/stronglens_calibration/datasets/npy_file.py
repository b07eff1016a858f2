"""A numpy ``.npy`` array (one shard of the stamp store)."""

from __future__ import annotations

import io

import numpy as np

from stronglens_calibration.datasets.fsspec_file import FsspecFileDataset


class NpyDataset(FsspecFileDataset):
    """One ``.npy`` array, never pickled.

    Loads memory-mapped (read-only) when the file is local, so a shard costs no memory
    until its pixels are touched; from object stores the bytes are read once.
    """

    def load(self) -> np.ndarray:
        if self._protocol == "file":
            return np.load(self._path, mmap_mode="r", allow_pickle=False)
        return np.load(io.BytesIO(self.read_bytes()), allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray) or data.dtype == object:
            raise TypeError(f"NpyDataset saves a numeric numpy array, got {type(data).__name__}")
        with self._fs.open(self._path, mode="wb") as f:
            np.save(f, data, allow_pickle=False)
        self._fs.invalidate_cache(self._path)
