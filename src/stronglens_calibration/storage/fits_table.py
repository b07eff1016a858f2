"""FITS binary tables (DR10 sweep catalogues): lazy, chunked, column-selective reading.

A sweep file is tens of MB to GB; a smoke run must read only the rows and columns it
needs. :class:`FITSTable` parses the headers, then reads row ranges straight from the
file's bytes (local or ``s3://`` alike), so reading stops wherever the caller stops.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy as np
import pandas as pd

_BLOCK = 2880
_TFORM = re.compile(r"^\s*(\d*)([LBIJKEDA])(\d*)\s*$")
_NUMPY_CODE = {"L": "S1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}


def _padded(nbytes: int) -> int:
    return (nbytes + _BLOCK - 1) // _BLOCK * _BLOCK


def _column_dtype(name: str, tform: str) -> tuple[str, Any] | tuple[str, Any, tuple[int]]:
    match = _TFORM.match(tform)
    if match is None:
        raise ValueError(f"FITS column {name!r} has unsupported TFORM {tform!r}")
    repeat, code, _ = match.groups()
    count = int(repeat) if repeat else 1
    if code == "A":
        return (name, f"S{count}")
    if count == 1:
        return (name, _NUMPY_CODE[code])
    return (name, _NUMPY_CODE[code], (count,))


class FITSTable:
    """Handle on the first binary-table HDU of a FITS file.

    Parameters
    ----------
    opener : callable
        Returns a new binary, seekable file object each call.
    name : str
        Shown in error messages.
    """

    def __init__(self, opener: Callable[[], IO[bytes]], name: str) -> None:
        from astropy.io import fits

        self._opener = opener
        self.name = name
        with opener() as f:
            offset = 0
            while True:
                f.seek(offset)
                try:
                    header = fits.Header.fromfile(f, endcard=True, padding=True)
                except (OSError, ValueError, EOFError) as exc:
                    raise ValueError(f"{name}: no binary table HDU ({exc})") from exc
                data_start = f.tell()
                naxes = [header.get(f"NAXIS{i}", 0) for i in range(1, header.get("NAXIS", 0) + 1)]
                size = abs(header.get("BITPIX", 8)) // 8 * int(np.prod(naxes)) if naxes else 0
                size += header.get("PCOUNT", 0)
                if header.get("XTENSION", "").strip() == "BINTABLE":
                    break
                offset = data_start + _padded(size)
        self.header = header
        self.n_rows = int(header["NAXIS2"])
        self._row_bytes = int(header["NAXIS1"])
        self._data_start = data_start
        fields = []
        self._scale: dict[str, tuple[float, float]] = {}
        for i in range(1, int(header["TFIELDS"]) + 1):
            col = str(header[f"TTYPE{i}"]).strip()
            fields.append(_column_dtype(col, str(header[f"TFORM{i}"])))
            zero, scale = header.get(f"TZERO{i}", 0), header.get(f"TSCAL{i}", 1)
            if zero != 0 or scale != 1:
                self._scale[col] = (float(scale), float(zero))
        self._dtype = np.dtype(fields)
        if self._dtype.itemsize != self._row_bytes:
            raise ValueError(
                f"{name}: column formats add up to {self._dtype.itemsize} bytes, "
                f"NAXIS1 says {self._row_bytes}"
            )

    @property
    def columns(self) -> list[str]:
        """Column names as stored."""
        return list(self._dtype.names or ())

    @property
    def column_kinds(self) -> dict[str, str]:
        """numpy kind of each column as stored (``S`` text, ``i``/``u`` integer, ``f``
        float, ``b`` logical), by name."""
        return {name: self._dtype[name].base.kind for name in self.columns}

    def _resolve(self, columns: list[str] | None) -> list[str]:
        if columns is None:
            return self.columns
        lookup = {c.upper(): c for c in self.columns}
        missing = [c for c in columns if c.upper() not in lookup]
        if missing:
            raise KeyError(f"{self.name}: FITS table lacks column(s) {missing}")
        return [lookup[c.upper()] for c in columns]

    def _frame(self, raw: np.ndarray, columns: list[str]) -> pd.DataFrame:
        out: dict[str, np.ndarray] = {}
        for col in columns:
            values = raw[col]
            if values.dtype.kind == "S":
                out[col] = np.char.strip(values.astype(str))
                continue
            values = values.astype(values.dtype.newbyteorder("="))
            if values.ndim > 1:  # a vector column (e.g. DCHISQ float32[5]): one array per row
                out[col] = list(values)
                continue
            if col in self._scale:
                scale, zero = self._scale[col]
                if scale == 1 and float(zero).is_integer() and values.dtype.kind in "iu":
                    target = np.dtype(values.dtype.str.replace("i", "u"))
                    values = (values.astype(np.int64) + int(zero)).astype(target)
                else:
                    values = values * scale + zero
            out[col] = values
        return pd.DataFrame(out)

    def read(
        self, columns: list[str] | None = None, start: int = 0, stop: int | None = None
    ) -> pd.DataFrame:
        """Rows ``[start, stop)`` of the given columns; names are matched
        case-insensitively and returned as asked for (``RA`` from a lower-case ``ra``)."""
        cols = self._resolve(columns)
        names = dict(zip(cols, columns or cols, strict=True))  # stored -> as asked for
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        start = max(0, min(start, stop))
        with self._opener() as f:
            f.seek(self._data_start + start * self._row_bytes)
            raw = f.read((stop - start) * self._row_bytes)
        if len(raw) != (stop - start) * self._row_bytes:
            raise ValueError(f"{self.name}: truncated table (rows {start}-{stop} incomplete)")
        frame = self._frame(np.frombuffer(raw, dtype=self._dtype), cols)
        return frame.rename(columns=names)

    def iter_chunks(
        self, columns: list[str] | None = None, chunk_rows: int = 100_000
    ) -> Iterator[pd.DataFrame]:
        """The table in consecutive chunks of at most ``chunk_rows`` rows."""
        if chunk_rows < 1:
            raise ValueError(f"'chunk_rows' must be >= 1, got {chunk_rows}")
        for start in range(0, self.n_rows, chunk_rows):
            yield self.read(columns, start, start + chunk_rows)


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
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table(cols))]).writeto(buf)
    return buf.getvalue()
