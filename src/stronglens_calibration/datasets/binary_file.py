"""A raw file as bytes (cutout FITS / NPZ files before decoding)."""

from __future__ import annotations

from stronglens_calibration.datasets.fsspec_file import FsspecFileDataset


class BinaryFileDataset(FsspecFileDataset):
    """Loads and saves a file's bytes unchanged.

    Decoding is left to the pipeline, so that a corrupt or truncated file becomes a
    quarantine row with a reason instead of a failed load.
    """

    def load(self) -> bytes:
        return self.read_bytes()

    def save(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray):
            raise TypeError(f"BinaryFileDataset saves bytes, got {type(data).__name__}")
        self.write_bytes(bytes(data))
