"""Kedro dataset of a FITS binary table (a DR10 sweep file), over the Kedro-free reader
:class:`~stronglens_calibration.storage.fits_table.FITSTable`."""

from __future__ import annotations

import pandas as pd

from stronglens_calibration.datasets.fsspec_file import FsspecFileDataset
from stronglens_calibration.storage.fits_table import FITSTable, frame_to_table


class FITSTableDataset(FsspecFileDataset):
    """A FITS binary table such as a DR10 sweep file.

    ``load()`` returns a lazy :class:`FITSTable` (``.read(columns, start, stop)``,
    ``.iter_chunks(columns, chunk_rows)``, ``.n_rows``); nothing but the headers is read
    until asked. ``save()`` takes a pandas DataFrame.
    """

    def load(self) -> FITSTable:
        return FITSTable(lambda: self._fs.open(self._path, mode="rb"), str(self._filepath))

    def save(self, data: pd.DataFrame) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"FITSTableDataset saves a pandas DataFrame, got {type(data).__name__}")
        self.write_bytes(frame_to_table(data))
