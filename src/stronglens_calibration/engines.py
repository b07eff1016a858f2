"""Engines: where the per-batch work of ingest, quality and split runs.

Every engine runs the same pure per-batch functions (a sweep file's scan, a shard's
cutouts, a shard's statistics, a batch of positions' split) and returns the same tables:
``pandas`` in this machine's processes, ``spark`` in ``mapInPandas`` / ``applyInPandas``
tasks of the active SparkSession. The choice is made once, from the ``engine`` setting
(``conf/base/globals.yml``; ``--env spark`` sets it), by :func:`get_engine`; nodes never
test the engine's name. Kedro-free: Spark modules are imported only by the Spark engine.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration.schema import CUTOUT_LOG_COLUMNS, names

logger = logging.getLogger(__name__)

#: What an engine yields per shard of the stamp store: the shard's name, its stamps
#: (float32 ``(n, 3, H, W)``, or a :class:`~.stamps.store.StagedPartition` already written
#: by an executor) and its cutout log.
ShardOutput = tuple[str, Any, pd.DataFrame]


class PandasEngine:
    """This machine's processes (the default)."""

    name = "pandas"

    def select(
        self,
        positives: pd.DataFrame,
        sweeps: Any,
        lenscat: pd.DataFrame,
        cfg: Any,
        file_photsys: Mapping[str, str] | None = None,
    ) -> Any:
        """The sweep scan and sampling (:func:`~.catalogues.selection.select_objects`)."""
        from stronglens_calibration.catalogues.selection import select_objects

        return select_objects(positives, sweeps, lenscat, cfg, file_photsys)

    def read_cutouts(
        self,
        slots: pd.DataFrame,
        raw_cutouts: Mapping[str, Callable[[], bytes]],
        coadd_bricks: Callable[[str, str], Any] | None,
        size: int,
        npz_column: str,
        n_workers: int,
        staging_dir: str,
        checks: Any = None,
        limits: Any = None,
    ) -> Iterator[ShardOutput]:
        """Decode the planned slots shard by shard; worker processes decode the next
        shard while the caller writes this one. ``checks``
        (:class:`~.stamps.store.StampChecks`) compares each file's header with its object;
        ``limits`` (:class:`~.stamps.store.ReadLimits`) caps what one cutout may be."""
        from stronglens_calibration.stamps.shard_reader import (
            CutoutSources,
            complete_shard,
            file_sources,
        )
        from stronglens_calibration.stamps.store import CutoutDecoder, shard_name

        sources = CutoutSources(dict(raw_cutouts), npz_column, checks, limits)
        progress = tqdm(total=len(slots), desc="reading cutouts", unit="stamp")
        groups = list(slots.groupby("shard", sort=True))

        def submit(decoder: CutoutDecoder, rows: pd.DataFrame) -> Callable[[], Any]:
            return decoder.submit(*file_sources(rows, sources))

        with CutoutDecoder(n_workers, size, sources.limits) as decoder:
            pending = submit(decoder, groups[0][1]) if groups else None
            for i, (shard, rows) in enumerate(groups):
                decoded, decoded_infos = pending()
                pending = submit(decoder, groups[i + 1][1]) if i + 1 < len(groups) else None
                stamps, infos = complete_shard(rows, decoded, decoded_infos, coadd_bricks, size)
                log = pd.DataFrame(infos, columns=names(CUTOUT_LOG_COLUMNS)[1:])
                log.insert(0, "object_id", rows["object_id"].to_numpy())
                progress.update(len(rows))
                yield shard_name(int(shard)), stamps, log
        progress.close()

    def stamp_statistics(
        self,
        stored: pd.DataFrame,
        loaders: Mapping[str, Callable[[], np.ndarray]],
        size: int,
        core_radius_px: float,
        annulus_px: tuple[float, float],
        batch_size: int,
        n_workers: int,
        coverage: tuple[float, int] = (5.0, 3),
    ) -> pd.DataFrame:
        """Statistics of every stored stamp: one task per shard over ``n_workers``."""
        from stronglens_calibration.stamps.quality import shard_statistics
        from stronglens_calibration.stamps.store import shard_name

        tasks = [
            (
                shard_name(int(shard)),
                loaders[shard_name(int(shard))],
                rows["offset"].to_numpy(np.int64),
                rows["object_id"].tolist(),
                size,
                core_radius_px,
                annulus_px,
                batch_size,
                coverage,
            )
            for shard, rows in stored.groupby("shard", sort=True)
        ]
        progress = tqdm(total=len(stored), desc="quality", unit="stamp")
        results = []
        if n_workers == 1 or len(tasks) < 2:
            for task in tasks:
                results.append(shard_statistics(*task))
                progress.update(len(task[2]))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(n_workers, len(tasks)), mp_context=ctx) as pool:
                futures = [pool.submit(shard_statistics, *task) for task in tasks]
                for fut, task in zip(futures, tasks, strict=True):
                    results.append(fut.result())
                    progress.update(len(task[2]))
        progress.close()
        if not results:
            return pd.DataFrame({"object_id": pd.Series(dtype=str)})
        return pd.concat(results, ignore_index=True)

    def assign_splits(
        self, positions: pd.DataFrame, nside: int, seed: int, fractions: dict[str, float]
    ) -> pd.DataFrame:
        """``healpix`` and ``split`` of each row (``ra``, ``dec`` in deg), in order."""
        from stronglens_calibration.sky.healpix import assign_splits, healpix_nested

        pixels = healpix_nested(positions["ra"], positions["dec"], nside)
        return pd.DataFrame(
            {"healpix": pixels, "split": assign_splits(pixels, nside, seed, fractions)}
        )

    def score_shards(
        self,
        shards: list[tuple[str, pd.DataFrame]],
        artifact: Mapping[str, Any],
        calibration: Mapping[str, Any],
        settings: Any,
        raw_cutouts: Mapping[str, Callable[[], bytes]],
        bricks: Callable[[str, str], Any] | None,
        cfg: Any,
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        """Score scan shards in this process, one at a time (CUDA when there is one)."""
        from stronglens_calibration.allocator import retain_freed_memory
        from stronglens_calibration.models.artifact import from_artifact
        from stronglens_calibration.models.training import select_device
        from stronglens_calibration.scan.scoring import score_shard
        from stronglens_calibration.stamps.shard_reader import CutoutSources

        model, pre = from_artifact(artifact)
        device = select_device(cfg.device)
        sources = CutoutSources(dict(raw_cutouts), "npz", cfg.checks, cfg.limits)
        retain_freed_memory(cfg.retain_freed_memory_mib)
        for name, plan in shards:
            yield (
                name,
                score_shard(plan, sources, bricks, model, pre, calibration, settings, device),
            )


class SparkEngine:
    """Tasks of the active SparkSession (``kedro run --env spark`` starts one)."""

    name = "spark"

    @staticmethod
    def _session() -> Any:
        from stronglens_calibration.spark.session import active_session

        return active_session()

    def select(
        self,
        positives: pd.DataFrame,
        sweeps: Any,
        lenscat: pd.DataFrame,
        cfg: Any,
        file_photsys: Mapping[str, str] | None = None,
    ) -> Any:
        """One ``mapInPandas`` task per sweep file, or per file group of a Spark table."""
        if is_spark_table(sweeps):
            from stronglens_calibration.spark.sweeps import select_objects_from_table

            return select_objects_from_table(positives, sweeps, lenscat, cfg, self._session())
        from stronglens_calibration.spark.selection import select_objects_spark

        return select_objects_spark(positives, sweeps, lenscat, cfg, self._session(), file_photsys)

    def read_cutouts(
        self,
        slots: pd.DataFrame,
        raw_cutouts: Mapping[str, Callable[[], bytes]],
        coadd_bricks: Callable[[str, str], Any] | None,
        size: int,
        npz_column: str,
        n_workers: int,
        staging_dir: str,
        checks: Any = None,
        limits: Any = None,
    ) -> Iterator[ShardOutput]:
        """Executors write the shards to ``staging_dir``; each is then handed to the store
        as a :class:`~.stamps.store.StagedPartition` (moved, not copied through the driver)."""
        import fsspec

        from stronglens_calibration.spark.cutouts import read_cutouts_spark, staged_shard_path
        from stronglens_calibration.stamps.store import StagedPartition, shard_name
        from stronglens_calibration.storage.uri import normalise_uri

        log = read_cutouts_spark(
            slots,
            raw_cutouts,
            coadd_bricks,
            size,
            npz_column,
            staging_dir,
            self._session(),
            checks,
            limits,
        )
        for shard, rows in log.groupby("shard", sort=True):
            entries = rows.drop(columns=["shard", "offset"]).reset_index(drop=True)
            staged = StagedPartition(staged_shard_path(staging_dir, int(shard)))
            yield shard_name(int(shard)), staged, entries
        # every staged shard has been moved into the store by now: drop the empty folder
        fs, root = fsspec.core.url_to_fs(normalise_uri(staging_dir))
        if fs.exists(root) and not fs.ls(root):
            fs.rm(root, recursive=True)

    def stamp_statistics(
        self,
        stored: pd.DataFrame,
        loaders: Mapping[str, Callable[[], np.ndarray]],
        size: int,
        core_radius_px: float,
        annulus_px: tuple[float, float],
        batch_size: int,
        n_workers: int,
        coverage: tuple[float, int] = (5.0, 3),
    ) -> pd.DataFrame:
        """One ``applyInPandas`` task per shard."""
        from stronglens_calibration.spark.quality import shard_statistics_spark

        return shard_statistics_spark(
            stored,
            dict(loaders),
            size,
            core_radius_px,
            annulus_px,
            batch_size,
            self._session(),
            coverage,
        )

    def assign_splits(
        self, positions: pd.DataFrame, nside: int, seed: int, fractions: dict[str, float]
    ) -> pd.DataFrame:
        """``mapInPandas`` over batches of positions."""
        from stronglens_calibration.spark.split import assign_splits_spark

        return assign_splits_spark(positions, nside, seed, fractions, self._session())

    def score_shards(
        self,
        shards: list[tuple[str, pd.DataFrame]],
        artifact: Mapping[str, Any],
        calibration: Mapping[str, Any],
        settings: Any,
        raw_cutouts: Mapping[str, Callable[[], bytes]],
        bricks: Callable[[str, str], Any] | None,
        cfg: Any,
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        """One task per shard on the executors (CPU), weights shipped once."""
        from stronglens_calibration.spark.scan import score_shards_spark

        yield from score_shards_spark(
            shards,
            artifact,
            calibration,
            settings,
            raw_cutouts,
            bricks,
            cfg.checks,
            self._session(),
            retain_freed_memory_mib=cfg.retain_freed_memory_mib,
            limits=cfg.limits,
        )


#: Engines by name (the ``engine`` setting).
ENGINES: dict[str, type[PandasEngine] | type[SparkEngine]] = {
    PandasEngine.name: PandasEngine,
    SparkEngine.name: SparkEngine,
}


def get_engine(name: str) -> PandasEngine | SparkEngine:
    """The engine called ``name``; ``ValueError`` naming the choices otherwise."""
    if name not in ENGINES:
        raise ValueError(f"unknown 'engine' {name!r}; known: {sorted(ENGINES)}")
    return ENGINES[name]()


def is_spark_table(data: Any) -> bool:
    """Whether ``data`` is a Spark DataFrame (e.g. the sweeps as one parquet table)."""
    return hasattr(data, "sparkSession")
