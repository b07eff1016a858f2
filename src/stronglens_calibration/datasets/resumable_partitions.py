"""A PartitionedDataset that keeps its partitions across runs, for work that resumes."""

from __future__ import annotations

import uuid
from copy import deepcopy
from typing import Any

from kedro.io.core import DatasetError
from kedro_datasets.partitions import PartitionedDataset


class ResumablePartitionedDataset(PartitionedDataset):
    """Partitions written one at a time and never cleared, each one atomically.

    A scan is long: a generator node saves one scored shard per step, and a run that is
    killed must leave only whole shards behind, so that the next run skips them and
    scores the rest. Each partition is written beside its final name (a name the
    dataset's suffix filter does not list) and moved into place; nothing is deleted.
    ``load()`` of a folder without partitions is ``{}`` (a scan not started yet).
    """

    #: The pre-flight check accepts a missing folder: nothing has been scored yet.
    absent_is_empty = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs["overwrite"] = False
        super().__init__(**kwargs)

    def load(self) -> dict[str, Any]:
        try:
            return super().load()
        except DatasetError as exc:
            if "No partitions found" in str(exc):
                return {}
            raise

    def save(self, data: dict[str, Any]) -> None:
        for partition_id, partition_data in sorted(data.items()):
            final = self._join_protocol(self._partition_to_path(partition_id))
            staging = f"{final}.{uuid.uuid4().hex}.partial"
            kwargs = deepcopy(self._dataset_config)
            kwargs[self._filepath_arg] = staging
            self._dataset_type(**kwargs).save(partition_data)
            self._filesystem.mv(staging, final)
        self._invalidate_caches()
