"""DR10 coadd brick images, opened lazily per (brick, band) through fsspec."""

from __future__ import annotations

from copy import deepcopy
from typing import IO, Any

import fsspec
from kedro.io.core import AbstractDataset, get_protocol_and_path

from stronglens_calibration.datasets.fsspec_file import normalise_uri
from stronglens_calibration.stamps.bricks import DR10_IMAGE_TEMPLATE, image_path


class BrickImages:
    """Opens ``<root>/<template>`` for a brick and band; picklable (for worker processes
    and Spark executors), nothing is listed or read until an image is opened.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        Filesystem of the coadd tree.
    root : str
        Coadd root (path on ``fs``).
    template : str
        Layout below the root (:data:`~.stamps.bricks.DR10_IMAGE_TEMPLATE`).
    """

    def __init__(self, fs: Any, root: str, template: str = DR10_IMAGE_TEMPLATE) -> None:
        self.fs, self.root, self.template = fs, root.rstrip("/"), template

    def path(self, brick: str, band: str) -> str:
        """Path of one image on the filesystem."""
        return f"{self.root}/{image_path(brick, band, self.template)}"

    def __call__(self, brick: str, band: str) -> IO[bytes]:
        """A binary file of the image; ``FileNotFoundError`` when the brick has none."""
        return self.fs.open(self.path(brick, band), "rb")


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
