"""A torch artifact (dict of tensors and plain values), loaded without executing code."""

from __future__ import annotations

import io
from typing import Any

from stronglens_calibration.datasets.fsspec_file import FsspecFileDataset


class TorchArtifactDataset(FsspecFileDataset):
    """Saves a dict with ``torch.save``; loads it with ``weights_only=True``."""

    def load(self) -> dict[str, Any]:
        import torch

        return torch.load(io.BytesIO(self.read_bytes()), map_location="cpu", weights_only=True)

    def save(self, data: dict[str, Any]) -> None:
        import torch

        if not isinstance(data, dict):
            raise TypeError(f"TorchArtifactDataset saves a dict, got {type(data).__name__}")
        buf = io.BytesIO()
        torch.save(data, buf)
        self.write_bytes(buf.getvalue())
