"""A catalog entry whose new content waits beside its file until its whole output set
is published (:mod:`~stronglens_calibration.storage.publication`)."""

from __future__ import annotations

import copy
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import AbstractDataset, get_filepath_str

from stronglens_calibration.datasets.location import Location, dataset_location
from stronglens_calibration.storage.publication import staged_path


def staging_copy(dataset: AbstractDataset, filepath: str) -> AbstractDataset:
    """The same dataset writing to and reading from ``filepath`` (protocol stripped).

    A dataset that does more on save than write its file (an object table that makes its
    stamp-store generation current) provides ``staging_copy`` itself, without that step;
    the step runs when the file is published (``after_published``).
    """
    own = getattr(dataset, "staging_copy", None)
    if own is not None:
        return own(filepath)
    staged = copy.copy(dataset)
    staged._filepath = PurePosixPath(filepath)  # type: ignore[attr-defined]
    return staged


def stageable(dataset: Any) -> Location:
    """The file of a dataset that can be staged.

    Raises
    ------
    TypeError
        For a dataset that is not one unversioned file on an fsspec filesystem.
    """
    location = dataset_location(dataset)
    if location is None or not location.is_file or getattr(dataset, "_version", None):
        raise TypeError(
            f"{type(dataset).__name__} is not one unversioned file on an fsspec filesystem; "
            "only such datasets can belong to an output set"
        )
    return location


class StagedOutput(AbstractDataset):
    """Stands in for a catalog entry of an output set during one run.

    Saves go to the staged file beside the entry's path; loads read the staged file once
    this run has written it (the nodes downstream see the new content), and the
    published file otherwise. ``mark_published`` is called once the set's publication
    has moved the staged file into place.

    Parameters
    ----------
    published : AbstractDataset
        The catalog entry (one unversioned file).
    set_name : str
        The output set it belongs to.
    token : str
        The run's token (names the staged file).
    """

    def __init__(self, published: AbstractDataset, set_name: str, token: str) -> None:
        location = stageable(published)
        self.published = published
        self.set_name = set_name
        self.final = location.path
        stripped = staged_path(str(published._filepath), token)  # type: ignore[attr-defined]
        self.staged_file = get_filepath_str(PurePosixPath(stripped), location.protocol)
        self.staged = staging_copy(published, stripped)
        self.fs = location.fs
        self.metadata = getattr(published, "metadata", None)
        self.written = False

    @property
    def awaiting_publication(self) -> bool:
        """Written in this run, not yet moved into place."""
        return self.written

    def load(self) -> Any:
        return (self.staged if self.written else self.published).load()

    def save(self, data: Any) -> None:
        self.staged.save(data)
        self.written = True

    def _exists(self) -> bool:
        return (self.staged if self.written else self.published).exists()

    def _describe(self) -> dict[str, Any]:
        return {"set": self.set_name, "file": self.final, "staged": self.written}

    def _release(self) -> None:
        self.published.release()
        self.staged.release()

    def mark_published(self) -> None:
        """The staged file is now the published one: reads go there again."""
        self.written = False
        invalidate = getattr(self.published, "_invalidate_cache", None)
        if invalidate is not None:
            invalidate()
        self.fs.invalidate_cache(self.final)

    def discard(self) -> None:
        """Remove what this run staged (its set will not be published)."""
        if self.fs.exists(self.staged_file):
            self.fs.rm(self.staged_file)
        self.written = False
