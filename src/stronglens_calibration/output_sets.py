"""Outputs that belong together are replaced together: a table, its quarantine and its
report are, on disk, all from one run or all from the one before.

A catalog entry joins a set with ``metadata: {output_set: <name>}`` (the ``{name}_report``
factory puts every report in the set of its prefix: ``split_report`` in ``split``). During
``kedro run`` every entry of a set that the run produces stands in as a
:class:`~stronglens_calibration.datasets.staged_output.StagedOutput`: its file is
written beside the published one, the nodes downstream read the new content, and when
the last of the set's files this run produces has been written, the set is published as
one (:mod:`~stronglens_calibration.storage.publication`). A run that fails before then
removes what it staged and leaves the previous set as it was; a run killed while
publishing is completed by the next run's start, and a run killed earlier leaves staged
files that the next start removes. Both happen after the data root lock is taken.

Only entries that are one unversioned file can join a set (folders of partitions and the
stamp store keep their own atomic schemes); outputs of generator nodes, saved in chunks,
are written directly.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import secrets
from collections.abc import Iterator
from typing import Any

from kedro.framework.hooks import hook_impl

from stronglens_calibration.datasets.staged_output import StagedOutput, stageable
from stronglens_calibration.run_lock import data_root
from stronglens_calibration.storage.publication import Move, Publication, Publisher
from stronglens_calibration.tracking.hooks import context_globals

logger = logging.getLogger(__name__)

#: The metadata key naming a catalog entry's output set.
OUTPUT_SET_KEY = "output_set"


def output_set(dataset: Any) -> str | None:
    """The output set a dataset declares, or ``None``."""
    metadata = getattr(dataset, "metadata", None) or {}
    name = metadata.get(OUTPUT_SET_KEY)
    return str(name) if name else None


def declared_members(catalog: Any, names: set[str]) -> dict[str, str]:
    """Entry name to set name, for the entries among ``names`` that declare a set.

    Raises
    ------
    TypeError
        For an entry that declares a set and is not one unversioned file (named).
    """
    members = {}
    for name in sorted(names):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        set_name = output_set(dataset)
        if set_name is None:
            continue
        try:
            stageable(dataset)
        except TypeError as exc:
            raise TypeError(f"catalog entry {name!r} declares {OUTPUT_SET_KEY}: {exc}") from None
        members[name] = set_name
    return members


def streamed_outputs(pipeline: Any) -> set[str]:
    """Outputs of generator nodes (saved chunk by chunk, so never staged)."""
    return {o for n in pipeline.nodes if inspect.isgeneratorfunction(n.func) for o in n.outputs}


@contextlib.contextmanager
def _quiet_replacement() -> Iterator[None]:
    """Kedro logs a warning for every replaced catalog entry; standing in is expected."""

    def drop(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Replacing dataset")

    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    catalog_logger.addFilter(drop)
    try:
        yield
    finally:
        catalog_logger.removeFilter(drop)


class OutputSetHook:
    """Stages the run's outputs set by set and publishes each set once it is complete."""

    def __init__(self) -> None:
        self._globals: dict[str, Any] = {}
        self._reset()

    def _reset(self) -> None:
        self._catalog: Any = None
        self._publisher: Publisher | None = None
        self._pending: dict[str, dict[str, StagedOutput]] = {}
        self._set_of: dict[str, str] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._globals = context_globals(context)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._reset()
        found = data_root(run_params, self._globals, catalog)
        if found is None:
            return
        publisher = Publisher(found[0], found[1])
        for publication in publisher.recover():
            for name in publication.datasets:
                if name in catalog:
                    after = getattr(catalog.get(name), "after_published", None)
                    if after is not None:
                        after()
        members = declared_members(catalog, set(catalog.keys()) | set(pipeline.datasets()))
        finals = [stageable(catalog.get(name)).path for name in members]
        for path in publisher.remove_orphans(finals):
            logger.warning("removed %s, staged by a run that was killed before publishing it", path)

        produced = set(pipeline.all_outputs()) - streamed_outputs(pipeline)
        token = secrets.token_hex(6)
        self._catalog, self._publisher = catalog, publisher
        with _quiet_replacement():
            for name, set_name in members.items():
                if name not in produced:
                    continue
                staged = StagedOutput(catalog.get(name), set_name, token)
                catalog[name] = staged
                self._pending.setdefault(set_name, {})[name] = staged
                self._set_of[name] = set_name

    @hook_impl(tryfirst=True)
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """The last file of a set written: the set is published (before the other hooks
        see the save, so that what they read back is the published file)."""
        set_name = self._set_of.get(dataset_name)
        if set_name is None or set_name not in self._pending:
            return
        if all(member.written for member in self._pending[set_name].values()):
            self._publish(set_name)

    def _publish(self, set_name: str) -> None:
        members = self._pending.pop(set_name)
        publication = Publication(
            set_name,
            tuple(Move(m.staged_file, m.final) for m in members.values()),
            tuple(members),
        )
        if self._publisher is None:  # pragma: no cover - staged only with a publisher
            raise RuntimeError("output set staged without a data root")
        self._publisher.publish(publication)
        for member in members.values():
            member.mark_published()
            after = getattr(member.published, "after_published", None)
            if after is not None:
                after()
        logger.info("output set %r published: %s", set_name, ", ".join(members))

    def _restore(self) -> None:
        if self._catalog is not None:
            with _quiet_replacement():
                for name in self._set_of:
                    staged = self._catalog.get(name)
                    if isinstance(staged, StagedOutput):
                        self._catalog[name] = staged.published
        self._reset()

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """A completed run has written every set it produces; a set some of whose files
        were never saved (a node that returned without them) is not published."""
        for set_name in list(self._pending):
            self._abandon(set_name, "the run ended before all of it was written")
        self._restore()

    @hook_impl(tryfirst=True)
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        """Runs before the other error hooks, so that the run report describes the files
        that stay (the previous run's), not the ones this run staged."""
        for set_name in list(self._pending):
            self._abandon(set_name, "the run failed before all of it was written")
        self._restore()

    def _abandon(self, set_name: str, why: str) -> None:
        members = self._pending.pop(set_name)
        written = [name for name, m in members.items() if m.written]
        for member in members.values():
            member.discard()
        if written:
            logger.warning(
                "output set %r not published (%s): %s kept as they were; staged %s removed",
                set_name,
                why,
                ", ".join(members),
                ", ".join(written),
            )
