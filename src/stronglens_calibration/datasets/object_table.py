"""An object table (parquet) that is replaced whole and, for ``objects_ingested``, makes
the stamp-store generation it describes current."""

from __future__ import annotations

import copy
import io
from pathlib import PurePosixPath
from typing import Any

import pandas as pd
from kedro.io.core import get_filepath_str, get_protocol_and_path
from kedro_datasets.pandas import ParquetDataset

from stronglens_calibration.stamps.generations import commit_generation, table_store_id
from stronglens_calibration.storage.atomic_write import write_atomically
from stronglens_calibration.storage.uri import normalise_uri


class ObjectTableDataset(ParquetDataset):
    """``pandas.ParquetDataset`` whose save never leaves a half-written table.

    On a local disk the table is written beside its path and renamed into place; on an
    object store it is one PUT. Either way a reader sees the old table or the new one.

    Parameters
    ----------
    stamp_store : str, optional
        Folder of the stamp store this table describes (same filesystem and credentials).
        After the table is written, the generation its ``stamp_store`` column names
        becomes current and the other generations are removed
        (:func:`~stronglens_calibration.stamps.generations.commit_generation`): the
        store is replaced only once the table describing the new one exists.
    **kwargs
        As for ``pandas.ParquetDataset``.
    """

    def __init__(self, *, stamp_store: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stamp_store = None
        if stamp_store:
            self._stamp_store = get_protocol_and_path(normalise_uri(stamp_store))[1]

    def save(self, data: pd.DataFrame) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"ObjectTableDataset saves a DataFrame, got {type(data).__name__}")
        path = get_filepath_str(self._get_save_path(), self._protocol)
        buf = io.BytesIO()
        data.to_parquet(buf, **self._save_args)
        write_atomically(self._fs, path, buf.getvalue())
        self._invalidate_cache()
        self._make_store_current(data)

    def _make_store_current(self, data: pd.DataFrame) -> None:
        if self._stamp_store is not None:
            store_id = table_store_id(data, str(self._filepath))
            if store_id is not None:
                commit_generation(self._fs, self._stamp_store, store_id)

    def staging_copy(self, filepath: str) -> ObjectTableDataset:
        """This table written to ``filepath`` (protocol stripped) without touching the
        stamp store: a staged table makes its generation current only once it is
        published (:meth:`after_published`)."""
        staged = copy.copy(self)
        staged._filepath = PurePosixPath(filepath)
        staged._stamp_store = None
        return staged

    def after_published(self) -> None:
        """The table's file was replaced by a staged one: its generation becomes current."""
        if self._stamp_store is not None:
            self._make_store_current(self.load())
