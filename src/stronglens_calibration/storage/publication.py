"""Replacing several files as one set: staged beside their paths, then published through
a journal, so that a reader never finds one file of the set newer than another.

A run writes each file of a set to a staged name beside its final path
(``.<name>.staged-<token>``, same folder, so the final move is a rename on a local disk).
Publishing writes a journal (``<data root>/.stronglens-publish/<set>.json``, one atomic
write) that lists every move, then makes the moves, then removes the journal. A process
killed before the journal exists leaves the published files untouched (the staged ones
are orphans, removed at the next start); one killed after it leaves a journal that the
next start completes (roll-forward). Either way the set is old or new as a whole.

The data root lock keeps a second run out while this happens, so nobody reads the data
root between two moves of one publication.

Kedro-free.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from stronglens_calibration.storage.atomic_write import is_local, write_atomically

logger = logging.getLogger(__name__)

#: Folder of the journals inside the data root.
JOURNAL_FOLDER = ".stronglens-publish"
#: Marker between a file's name and the token of the run that staged it.
STAGED_MARK = ".staged-"


def staged_path(final: str, token: str) -> str:
    """Where a run with ``token`` stages the file that will replace ``final``."""
    if not token or "/" in token:
        raise ValueError(f"token must be a non-empty name without '/', got {token!r}")
    folder, name = posixpath.split(final)
    return posixpath.join(folder, f".{name}{STAGED_MARK}{token}")


def staged_siblings(fs: object, final: str) -> list[str]:
    """Staged files of any run waiting beside ``final`` (paths as ``fs`` lists them)."""
    folder, name = posixpath.split(final)
    if not fs.exists(folder or "."):  # type: ignore[attr-defined]
        return []
    pattern = posixpath.join(folder, f".{name}{STAGED_MARK}*")
    return sorted(str(p) for p in fs.glob(pattern))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Move:
    """One file of a set: its staged copy and the path it replaces."""

    staged: str
    final: str


@dataclass(frozen=True)
class Publication:
    """A set of files replaced together.

    Attributes
    ----------
    set_name : str
        The set's name (the journal's file name).
    moves : tuple of Move
        Every file of the set.
    datasets : tuple of str
        The catalog entries behind the moves, in the same order (so that whoever
        completes a publication can tell each entry that its file was replaced).
    """

    set_name: str
    moves: tuple[Move, ...]
    datasets: tuple[str, ...]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "set": self.set_name,
                "moves": [[m.staged, m.final] for m in self.moves],
                "datasets": list(self.datasets),
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes, source: str) -> Publication:
        try:
            record = json.loads(data)
            moves = tuple(Move(str(s), str(f)) for s, f in record["moves"])
            datasets = tuple(str(d) for d in record["datasets"])
            set_name = str(record["set"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"publication journal {source} is not readable: {exc}") from exc
        if len(datasets) != len(moves):
            raise ValueError(
                f"publication journal {source} lists {len(moves)} moves for "
                f"{len(datasets)} datasets"
            )
        return cls(set_name, moves, datasets)


def _move(fs: object, source: str, destination: str) -> None:
    """Replace ``destination`` by ``source``: a rename on a local disk, copy and delete
    on an object store (the copy replaces the object whole)."""
    if is_local(fs):
        os.replace(source, destination)
    else:
        fs.mv(source, destination)  # type: ignore[attr-defined]
    fs.invalidate_cache(destination)  # type: ignore[attr-defined]


class Publisher:
    """Publishes sets of staged files under one data root, and completes publications
    that a killed process left half done.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        Filesystem of the data root and of every file it publishes.
    root : str
        The data root (as ``fs`` takes paths).
    """

    def __init__(self, fs: object, root: str) -> None:
        self.fs = fs
        self.folder = posixpath.join(root.rstrip("/"), JOURNAL_FOLDER)

    def journal(self, set_name: str) -> str:
        """The journal path of a set."""
        if not set_name or "/" in set_name:
            raise ValueError(f"set name must be a non-empty name without '/', got {set_name!r}")
        return posixpath.join(self.folder, f"{set_name}.json")

    def publish(self, publication: Publication) -> None:
        """Replace every final file of ``publication`` by its staged copy, as one set."""
        missing = [m.staged for m in publication.moves if not self.fs.exists(m.staged)]  # type: ignore[attr-defined]
        if missing:
            raise FileNotFoundError(
                f"set {publication.set_name!r} cannot be published: staged file(s) "
                f"{', '.join(missing)} do not exist"
            )
        write_atomically(self.fs, self.journal(publication.set_name), publication.to_json())
        self.complete(publication)

    def complete(self, publication: Publication) -> None:
        """Make the moves a journal lists (those already made are skipped), then remove
        the journal."""
        for move in publication.moves:
            if self.fs.exists(move.staged):  # type: ignore[attr-defined]
                _move(self.fs, move.staged, move.final)
        self.fs.rm(self.journal(publication.set_name))  # type: ignore[attr-defined]
        self.fs.invalidate_cache(self.folder)  # type: ignore[attr-defined]

    def pending(self) -> list[Publication]:
        """Publications whose journal is still there (a process died while making them)."""
        if not self.fs.exists(self.folder):  # type: ignore[attr-defined]
            return []
        found = []
        for path in sorted(self.fs.glob(posixpath.join(self.folder, "*.json"))):  # type: ignore[attr-defined]
            found.append(Publication.from_json(self.fs.cat_file(path), str(path)))  # type: ignore[attr-defined]
        return found

    def recover(self) -> list[Publication]:
        """Complete every pending publication; the ones completed."""
        done = self.pending()
        for publication in done:
            logger.warning(
                "set %r: completing the publication a killed run left half done (%d files)",
                publication.set_name,
                len(publication.moves),
            )
            self.complete(publication)
        return done

    def remove_orphans(self, finals: Sequence[str]) -> list[str]:
        """Remove staged files beside ``finals`` that no pending publication lists (left by
        a run killed before it published); the paths removed. Call after
        :meth:`recover`, under the data root lock."""
        strip = self.fs._strip_protocol  # type: ignore[attr-defined]
        listed = {strip(m.staged) for p in self.pending() for m in p.moves}
        removed = []
        for final in finals:
            for path in staged_siblings(self.fs, final):
                if strip(path) not in listed:
                    self.fs.rm(path)  # type: ignore[attr-defined]
                    removed.append(path)
        return removed
