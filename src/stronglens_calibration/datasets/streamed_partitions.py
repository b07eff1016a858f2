"""A PartitionedDataset that a generator node fills chunk by chunk."""

from __future__ import annotations

from typing import Any

from kedro_datasets.partitions import PartitionedDataset

from stronglens_calibration.stamps.store import StagedPartition


class StreamedPartitionedDataset(PartitionedDataset):
    """``PartitionedDataset`` whose first save in a run replaces the folder, later saves add.

    A generator node (one that ``yield``s) saves each chunk as it is produced, so memory
    stays bounded; the stamp store is written this way, one shard per chunk. Plain
    ``PartitionedDataset`` either keeps stale partitions of an earlier, larger run
    (``overwrite: false``) or keeps only the last chunk (``overwrite: true``); this class
    clears the folder once, at the first save of the dataset object's life (one
    ``kedro run``), and appends afterwards.
    """

    #: Whether the first save of a run empties the folder.
    clear_on_first_save = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs["overwrite"] = False
        super().__init__(**kwargs)
        self._started = False

    def save(self, data: dict[str, Any]) -> None:
        if (
            self.clear_on_first_save
            and not self._started
            and self._filesystem.exists(self._normalized_path)
        ):
            self._filesystem.rm(self._normalized_path, recursive=True)
        self._started = True
        staged = {k: v for k, v in data.items() if isinstance(v, StagedPartition)}
        for partition_id, part in sorted(staged.items()):
            target = self._join_protocol(self._partition_to_path(partition_id))
            if not self._filesystem.exists(part.path):
                raise FileNotFoundError(
                    f"staged partition {partition_id!r} is missing at {part.path}"
                )
            self._filesystem.makedirs(target.rsplit(self._sep, 1)[0], exist_ok=True)
            self._filesystem.mv(part.path, target)
        rest = {k: v for k, v in data.items() if k not in staged}
        if rest:
            super().save(rest)
        else:
            self._invalidate_caches()
