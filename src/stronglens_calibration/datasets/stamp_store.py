"""The stamp store as a Kedro dataset: shards written into a new generation beside the
current one, loaded from the generation the store (or the object table) names."""

from __future__ import annotations

from typing import Any

from stronglens_calibration.datasets.streamed_partitions import StreamedPartitionedDataset
from stronglens_calibration.stamps.generations import (
    StampShards,
    read_pointer,
    split_partition,
)


class StampStoreDataset(StreamedPartitionedDataset):
    """``.npy`` shards under ``<path>/<generation>/part-NNNNN.npy``
    (:mod:`~stronglens_calibration.stamps.generations`).

    Saving takes partitions named ``<generation>/part-NNNNN`` (the ingest names its
    generation) and never removes anything: the previous generation stays whole until
    the object table of the new one is written
    (:class:`~stronglens_calibration.datasets.ObjectTableDataset` with ``stamp_store``).
    Loading gives a :class:`~stronglens_calibration.stamps.generations.StampShards` of
    the current generation (shard name to loader) that also reaches the others; a store
    of the flat layout of earlier versions (``part-*.npy`` in the folder) loads as
    generation ``None``.
    """

    clear_on_first_save = False

    def save(self, data: dict[str, Any]) -> None:
        bad = [k for k in data if split_partition(k)[0] is None]
        if bad:
            raise ValueError(
                f"stamp store partitions must be named '<generation>/part-NNNNN', got {bad[:3]}"
            )
        current = read_pointer(self._filesystem, self._normalized_path)
        if any(split_partition(k)[0] == current for k in data):
            raise ValueError(
                f"generation {current} is the current stamp store under {self._path}; an "
                "ingest writes a new generation (rerun the whole ingest pipeline, whose "
                "plan_cutouts_node names one), never into the current one"
            )
        super().save(data)

    def load(self) -> StampShards:
        generations: dict[str | None, dict[str, Any]] = {}
        for partition_id, loader in super().load().items():
            generation, shard = split_partition(partition_id)
            generations.setdefault(generation, {})[shard] = loader
        # without CURRENT no generation is committed: only a flat-layout store (None) is
        current = read_pointer(self._filesystem, self._normalized_path)
        return StampShards(current, generations, self._path)
