"""A torch Dataset over the stamp store: memory-mapped shards, NaN guard, augmentation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from stronglens_calibration import BANDS
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.stamps.reading import StampStore


class StampDataset(Dataset):
    """Objects of the requested splits, preprocessed, with seeded augmentation.

    Only rows with ``cutout_ok`` of ``splits`` are indexed: nothing else is ever read.
    A stamp that is not finite after preprocessing is not returned (``None``; the
    collate function drops it and it is counted in :attr:`skipped`).

    Parameters
    ----------
    objects : pandas.DataFrame
        ``objects_split`` (``object_id``, ``label``, ``split``, ``cutout_ok``, ``shard``,
        ``offset``, ``sample_weight``, ``annulus_median_<b>``, ``annulus_mad_<b>``).
    stamps : Mapping
        Shard name to loader (memory-mapped when local); opened lazily per process.
    splits : tuple of str
        Which splits to index.
    preprocessing : Preprocessing
        Normalisation and crop.
    augment : bool
        Random flips and 90-degree rotations, seeded by ``(seed, epoch, index)``.
    seed : int
        Augmentation seed.
    """

    def __init__(
        self,
        objects: pd.DataFrame,
        stamps: Mapping[str, Callable[[], np.ndarray]],
        splits: tuple[str, ...],
        preprocessing: Preprocessing,
        augment: bool = False,
        seed: int = 0,
    ) -> None:
        rows = objects[objects["cutout_ok"] & objects["split"].isin(list(splits))]
        self.table = rows.reset_index(drop=True)
        self.store = StampStore(stamps)
        self.preprocessing = preprocessing
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.touched: set[str] = set()
        self.skipped = 0
        self._median = self.table[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
        self._mad = self.table[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)
        self.labels = self.table["label"].to_numpy(np.float32)
        self.weights = self.table["sample_weight"].to_numpy(np.float32)

    def __len__(self) -> int:
        return len(self.table)

    def fingerprint(self) -> str:
        """sha256 (16 hex digits) of what this dataset trains on: object ids, labels,
        weights, stamp locations and the per-band statistics quality measured on the
        pixels (so new pixels under the same ids change it too)."""
        import hashlib

        cols = ["object_id", "label", "sample_weight", "shard", "offset"]
        cols += [f"{s}_{b}" for s in ("annulus_median", "annulus_mad", "core_flux") for b in BANDS]
        present = [c for c in cols if c in self.table]
        hashed = pd.util.hash_pandas_object(self.table[present], index=False).to_numpy()
        return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]

    def set_epoch(self, epoch: int) -> None:
        """Seed the augmentations of an epoch."""
        self.epoch = epoch

    def stamp(self, i: int) -> np.ndarray:
        """Preprocessed, un-augmented stamp ``i``: float32 ``(3, crop, crop)``."""
        row = self.table.iloc[i]
        self.touched.add(str(row["object_id"]))
        raw = self.store.stamp(int(row["shard"]), int(row["offset"]))[None]
        return self.preprocessing(raw, self._median[i : i + 1], self._mad[i : i + 1])[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, float, float] | None:
        x = self.stamp(i)
        if not np.isfinite(x).all():
            self.skipped += 1
            return None
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            k = int(rng.integers(4))
            x = np.rot90(x, k, axes=(1, 2))
            if rng.random() < 0.5:
                x = x[:, :, ::-1]
        return (
            torch.from_numpy(np.ascontiguousarray(x)),
            float(self.labels[i]),
            float(self.weights[i]),
        )


def collate_skip_none(batch: list) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, int]:
    """Stack a batch, dropping the items the NaN guard refused.

    Returns ``(x, y, w, n_skipped)``; ``x`` is ``None`` when every item was refused.
    """
    items = [b for b in batch if b is not None]
    skipped = len(batch) - len(items)
    if not items:
        return None, torch.empty(0), torch.empty(0), skipped
    x = torch.stack([b[0] for b in items])
    y = torch.tensor([b[1] for b in items], dtype=torch.float32)
    w = torch.tensor([b[2] for b in items], dtype=torch.float32)
    return x, y, w, skipped
