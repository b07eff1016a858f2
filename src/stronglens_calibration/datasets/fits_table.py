"""FITS binary tables (DR10 sweep catalogues) as pandas DataFrames."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from stronglens_calibration.datasets.fsspec_file import FsspecFileDataset


def table_to_frame(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """Read the first binary-table HDU of a FITS file into a DataFrame.

    Byte strings become ``str``; big-endian columns become native-endian. Only
    ``columns`` are converted when given (names are matched case-insensitively).
    """
    from astropy.io import fits

    with fits.open(io.BytesIO(data), memmap=False) as hdul:
        hdu = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
        if hdu is None:
            raise ValueError("FITS file has no binary table HDU")
        rec = hdu.data
        names = list(rec.names)
        if columns is not None:
            lookup = {n.upper(): n for n in names}
            missing = [c for c in columns if c.upper() not in lookup]
            if missing:
                raise KeyError(f"FITS table lacks column(s) {missing}")
            names = [lookup[c.upper()] for c in columns]
        out = {}
        for name in names:
            col = np.asarray(rec[name])
            if col.dtype.kind == "S":
                out[name] = np.char.strip(col.astype(str))
            else:
                out[name] = col.astype(col.dtype.newbyteorder("="), copy=False)
    return pd.DataFrame(out)


def frame_to_table(frame: pd.DataFrame) -> bytes:
    """Write a DataFrame as a FITS file with one binary-table HDU (strings fixed-width)."""
    from astropy.io import fits
    from astropy.table import Table

    cols = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype.kind in ("O", "U", "T") or pd.api.types.is_string_dtype(frame[name]):
            values = np.asarray(values, dtype=str).astype("S")
        cols[name] = values
    buf = io.BytesIO()
    fits.BinTableHDU(Table(cols)).writeto(buf)
    return buf.getvalue()


class FITSTableDataset(FsspecFileDataset):
    """A FITS binary table (e.g. a DR10 sweep file) loaded as a pandas DataFrame.

    Parameters
    ----------
    filepath : str
        Local path or URI.
    load_args : dict, optional
        ``columns``: list of columns to read (all by default).
    """

    def __init__(self, filepath: str, load_args: dict | None = None, **kwargs: object) -> None:
        super().__init__(filepath, **kwargs)
        self._load_args = dict(load_args or {})

    def load(self) -> pd.DataFrame:
        return table_to_frame(self.read_bytes(), self._load_args.get("columns"))

    def save(self, data: pd.DataFrame) -> None:
        self.write_bytes(frame_to_table(data))
