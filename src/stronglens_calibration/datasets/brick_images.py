"""DR10 coadd brick images, opened lazily per (brick, band) through fsspec."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import fsspec
from kedro.io.core import AbstractDataset, get_protocol_and_path

from stronglens_calibration.stamps.bricks import DR10_IMAGE_TEMPLATE, BrickImages
from stronglens_calibration.storage.uri import normalise_uri


class BrickImagesDataset(AbstractDataset):
    """Read-only dataset whose ``load`` returns a :class:`BrickImages` opener.

    Parameters
    ----------
    path : str
        Coadd root, local or ``s3://`` / ``s3a://``.
    template : str
        Image layout below the root.
    credentials, fs_args : dict, optional
        For the fsspec filesystem.
    metadata : dict, optional
        Free-form metadata.
    """

    def __init__(
        self,
        path: str,
        template: str = DR10_IMAGE_TEMPLATE,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, root = get_protocol_and_path(normalise_uri(path))
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **(fs_args or {}))
        # the root is kept as `_root`, not `_path`: the pre-flight check does not require a
        # coadd tree, which is read only with `ingest.bricks.enabled`
        self._root = root
        self._template = template
        self.metadata = metadata

    def load(self) -> BrickImages:
        return BrickImages(self._fs, self._root, self._template)

    def save(self, data: Any) -> None:
        raise NotImplementedError("BrickImagesDataset is read-only: the coadds are survey data")

    def _describe(self) -> dict[str, Any]:
        return {"path": f"{self._protocol}://{self._root}", "template": self._template}
