"""Reading the stamp store: shards opened lazily (memory-mapped when local), stamps and
central crops of any rows of the object table, in table order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.stamps.generations import shards_for_table
from stronglens_calibration.stamps.geometry import centre_slice
from stronglens_calibration.stamps.store import shard_name


class StampStore:
    """The stamp store behind an object table's ``shard`` and ``offset`` columns.

    Shards are opened on first use and kept open; pickling (to a worker process or a
    Spark executor) drops the open memory maps, which are reopened there.

    Parameters
    ----------
    loaders : Mapping
        Shard name (``part-NNNNN``) to a callable returning the shard, float32
        ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], np.ndarray]]) -> None:
        self._loaders: Mapping[str, Callable[[], np.ndarray]] = loaders
        self._open: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_loaders": self._loaders, "_open": {}}

    def shard(self, index: int) -> np.ndarray:
        """Shard ``index``, float32 ``(n, 3, H, W)`` (memory-mapped when local)."""
        name = shard_name(int(index))
        if name not in self._open:
            if name not in self._loaders:
                raise KeyError(f"the stamp store has no shard {name}")
            self._open[name] = self._loaders[name]()
        return self._open[name]

    def stamp(self, shard: int, offset: int) -> np.ndarray:
        """One stamp, float32 ``(3, H, W)``."""
        return np.asarray(self.shard(shard)[int(offset)])

    def read(self, objects: pd.DataFrame, crop: int | None = None) -> np.ndarray:
        """Stamps (or central crops) of the rows of ``objects``, in table order.

        Each shard is visited once, its rows read in offset order; a row may appear
        more than once.

        Parameters
        ----------
        objects : pandas.DataFrame
            Rows with ``shard`` and ``offset`` (``>= 0``); with a ``stamp_store`` column, the
            shards of that generation are read (and a generation the store no longer
            holds is refused).
        crop : int, optional
            Side in pixels of the central crop (:func:`~.geometry.centre_slice`);
            ``None``: the whole stamp.

        Returns
        -------
        numpy.ndarray
            float32 ``(n, 3, crop, crop)`` (or ``(n, 3, H, W)``), g, r, z, nanomaggies
            per pixel.
        """
        if not len(objects):
            raise ValueError("no object to read")
        resolved = shards_for_table(objects, self._loaders, "the object table")
        if resolved is not self._loaders:
            self._loaders, self._open = dict(resolved), {}
        shards = objects["shard"].to_numpy()
        offsets = objects["offset"].to_numpy()
        if (shards < 0).any():
            raise ValueError("an object without a stamp (shard -1) cannot be read")
        order = np.lexsort((offsets, shards))
        out: np.ndarray | None = None
        for shard in np.unique(shards):
            rows = order[shards[order] == shard]
            data = self.shard(int(shard))
            size = data.shape[-1]
            window = slice(None) if crop is None else centre_slice(size, crop)
            block = np.asarray(data[offsets[rows], :, window, window], dtype=np.float32)
            if len(rows) == len(objects) and (rows == np.arange(len(rows))).all():
                return block  # one shard read in table order: no second copy
            if out is None:
                out = np.empty((len(objects), *block.shape[1:]), dtype=np.float32)
            out[rows] = block
        return out


def read_stamps(
    objects: pd.DataFrame,
    loaders: Mapping[str, Callable[[], np.ndarray]],
    crop: int | None = None,
) -> np.ndarray:
    """:meth:`StampStore.read` on a store opened for this one read."""
    return StampStore(loaders).read(objects, crop)
