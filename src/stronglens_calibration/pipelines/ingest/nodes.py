"""Nodes of the ``ingest`` pipeline."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration import BANDS
from stronglens_calibration.catalogues.lenscat import build_positives, select_candidates
from stronglens_calibration.catalogues.selection import SelectionConfig, select_objects
from stronglens_calibration.checks import ParamReader
from stronglens_calibration.datasets.fits_table import FITSTable
from stronglens_calibration.stamps.cutout_service import CutoutServiceConfig, fetch_cutouts
from stronglens_calibration.stamps.naming import cutout_stem
from stronglens_calibration.stamps.shard_reader import (
    CutoutSources,
    complete_shard,
    file_sources,
)
from stronglens_calibration.stamps.store import (
    CutoutDecoder,
    CutoutIndex,
    assign_shards,
    shard_name,
)

logger = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["object_id", "ra", "dec", "label", "stage", "reason"]


def select_positives(
    lens_candidates: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Lens candidates found in ground-based imaging, tiers assigned, duplicates merged.

    Returns
    -------
    positives : pandas.DataFrame
        ``object_id``, ``ra``, ``dec`` (deg), ``label`` (1), ``tier``, ``origin``.
    quarantine : pandas.DataFrame
        Candidate rows not kept (bad coordinates, merged duplicates), with reasons.
    report : dict
        Counts.
    """
    p = ParamReader(params, "ingest").section("positives")
    tiers = dict(p.raw("tiers"))
    cands = select_candidates(
        lens_candidates,
        p.strings("ref_patterns"),
        p.strings("name_patterns"),
        gradings=list(tiers),
        lens_types=p.strings("lens_types"),
    )
    positives, quarantine = build_positives(cands, tiers, p.positive("merge_radius_arcsec"))
    report = {
        "lenscat_rows": int(len(lens_candidates)),
        "candidates_matching_references": int(len(cands)),
        "candidate_rows_quarantined": {
            r: int(n)
            for r, n in quarantine["reason"]
            .str.replace(r",.*", "", regex=True)
            .value_counts()
            .items()
        },
        "positives": int(len(positives)),
    }
    logger.info("%d lens candidates -> %d positives", len(cands), len(positives))
    return positives, quarantine.drop(columns="source_row"), report


def select_sample(
    positives: pd.DataFrame,
    negative_pool: dict[str, Callable[[], FITSTable]] | Any,
    lens_candidates: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Positives' photometry, symmetric cuts, exclusion and stratified negatives.

    See :func:`stronglens_calibration.catalogues.selection.select_objects`; with
    ``ingest.engine: spark`` the sweep files are scanned by Spark tasks
    (:func:`stronglens_calibration.spark.selection.select_objects_spark`). When
    ``negative_pool`` is a Spark table of sweep rows (a ``spark.SparkDataset`` written by
    the ``sweeps_to_parquet`` pipeline), it is scanned one file per group
    (:func:`stronglens_calibration.spark.sweeps.select_objects_from_table`).
    """
    cfg = SelectionConfig.from_params(params)
    if hasattr(negative_pool, "sparkSession"):  # a Spark table of sweep rows (spark.SparkDataset)
        from stronglens_calibration.spark.session import active_session
        from stronglens_calibration.spark.sweeps import select_objects_from_table

        result = select_objects_from_table(
            positives, negative_pool, lens_candidates, cfg, active_session()
        )
    elif ParamReader(params, "ingest").choice("engine", ["pandas", "spark"]) == "spark":
        from stronglens_calibration.spark.selection import select_objects_spark
        from stronglens_calibration.spark.session import active_session

        result = select_objects_spark(
            positives, negative_pool, lens_candidates, cfg, active_session()
        )
    else:
        result = select_objects(positives, negative_pool, lens_candidates, cfg)
    return result.objects, result.quarantine, result.report


def plan_cutouts(
    selection: pd.DataFrame, raw_cutouts: dict[str, Callable[[], bytes]], params: dict[str, Any]
) -> pd.DataFrame:
    """Find each object's cutout (file, parquet row, coadd brick or the cutout service) and
    its slot.

    With ``ingest.bricks.enabled`` an object without a cutout file whose sweep row names
    a brick is cut from that brick (``cutout_origin`` ``brick``, ``cutout_file``
    ``brick:<name>``); such objects are placed brick by brick in the store, so that each
    brick image is opened about once.

    Returns
    -------
    pandas.DataFrame
        The selection with ``cutout_file``, ``cutout_row``, ``cutout_origin``, ``shard``
        and ``offset`` (-1 for objects without a cutout, whose ``cutout_error`` says why).
    """
    p = ParamReader(params, "ingest")
    c = p.section("cutouts")
    index = CutoutIndex.from_partitions(raw_cutouts, str(c.raw("parquet_npz_column")))
    if index.duplicates:
        logger.warning("%d cutouts exist twice; the first is used", len(index.duplicates))
    plan = selection.reset_index(drop=True)
    located = index.locate(plan["ra"].to_numpy(), plan["dec"].to_numpy())
    plan = pd.concat([plan, located], axis=1)
    plan["cutout_origin"] = np.where(
        plan["cutout_file"] == "", "", np.where(plan["cutout_row"] >= 0, "table", "file")
    )
    plan["cutout_error"] = np.where(plan["cutout_file"] == "", "missing file", "")
    if p.section("bricks").boolean("enabled"):
        plan = _plan_bricks(plan)
    service = CutoutServiceConfig.from_params(p.raw("cutout_service"), c.integer("stamp_size", 1))
    missing = np.flatnonzero(plan["cutout_file"] == "")
    if service.enabled and missing.size:
        wanted = [
            (cutout_stem(plan.at[i, "ra"], plan.at[i, "dec"]), plan.at[i, "ra"], plan.at[i, "dec"])
            for i in missing
        ]
        fetched = fetch_cutouts(wanted, service)
        for i, (stem, _, _) in zip(missing, wanted, strict=True):
            status, value = fetched[stem]
            if status == "ok":
                plan.loc[i, ["cutout_file", "cutout_origin", "cutout_error"]] = [
                    value,
                    "service",
                    "",
                ]
            else:
                plan.at[i, "cutout_error"] = value
    found = (plan["cutout_file"] != "").to_numpy()
    if not found.any():
        raise ValueError(
            "no cutout was found for any selected object: check the raw_cutouts path, the "
            "file names (cutout_<ra>_<dec>.fits/.npz) or enable 'ingest.cutout_service'"
        )
    plan["shard"], plan["offset"] = assign_shards(found, c.integer("shard_size", low=1))
    logger.info("cutouts: %d found, %d missing", found.sum(), (~found).sum())
    return plan


def _plan_bricks(plan: pd.DataFrame) -> pd.DataFrame:
    """Objects without a file but with a brick name are cut from their brick; they go
    after the others, grouped by brick (a brick then spans at most two shards)."""
    if "brickname" not in plan:
        raise ValueError(
            "ingest.bricks.enabled needs a 'brickname' per object (the sweeps' BRICKNAME)"
        )
    from_brick = (plan["cutout_file"] == "") & (plan["brickname"].fillna("") != "")
    plan.loc[from_brick, "cutout_file"] = "brick:" + plan.loc[from_brick, "brickname"]
    plan.loc[from_brick, "cutout_origin"] = "brick"
    plan.loc[from_brick, "cutout_error"] = ""
    order = np.lexsort((plan["brickname"].fillna("").to_numpy(str), from_brick.to_numpy()))
    logger.info(
        "cutouts from coadd bricks: %d objects in %d bricks",
        from_brick.sum(),
        plan.loc[from_brick, "brickname"].nunique(),
    )
    return plan.iloc[order].reset_index(drop=True)


def read_cutouts(
    plan: pd.DataFrame,
    raw_cutouts: dict[str, Callable[[], bytes]],
    coadd_bricks: Callable[[str, str], Any],
    params: dict[str, Any],
) -> Iterator[tuple[dict[str, np.ndarray], dict[str, pd.DataFrame]]]:
    """Decode the cutouts into the stamp store, one shard per step (a generator node).

    Files are decoded by worker processes (the next shard while Kedro writes this one);
    objects planned from coadd bricks are cut here, each brick image opened once.

    Yields
    ------
    stamps : dict
        ``{"part-NNNNN": float32 (n, 3, H, W)}``, g, r, z, nanomaggies per pixel; an
        unreadable cutout leaves a NaN slot.
    log : dict
        ``{"part-NNNNN": DataFrame}`` with ``object_id``, ``reader``, ``bands_present``
        and ``cutout_error`` of each slot.
    """
    p = ParamReader(params, "ingest")
    c = p.section("cutouts")
    size = c.integer("stamp_size", low=1)
    sources = CutoutSources(raw_cutouts, str(c.raw("parquet_npz_column")))
    slots = plan[plan["shard"] >= 0].sort_values(["shard", "offset"])
    if p.choice("engine", ["pandas", "spark"]) == "spark":
        yield from _read_cutouts_on_spark(slots, raw_cutouts, coadd_bricks, size, c)
        return
    progress = tqdm(total=len(slots), desc="reading cutouts", unit="stamp")
    groups = list(slots.groupby("shard", sort=True))

    def submit(decoder: CutoutDecoder, rows: pd.DataFrame) -> Callable[[], Any]:
        return decoder.submit(*file_sources(rows, sources))

    with CutoutDecoder(c.integer("n_workers", low=1), size) as decoder:
        pending = submit(decoder, groups[0][1]) if groups else None
        for i, (shard, rows) in enumerate(groups):
            decoded, decoded_infos = pending()
            # the workers decode the next shard while this one is cut and written
            pending = submit(decoder, groups[i + 1][1]) if i + 1 < len(groups) else None
            stamps, infos = complete_shard(rows, decoded, decoded_infos, coadd_bricks, size)
            log = pd.DataFrame(infos)
            log.insert(0, "object_id", rows["object_id"].to_numpy())
            progress.update(len(rows))
            yield {shard_name(int(shard)): stamps}, {shard_name(int(shard)): log}
    progress.close()


def _read_cutouts_on_spark(
    slots: pd.DataFrame,
    raw_cutouts: dict[str, Callable[[], bytes]],
    coadd_bricks: Callable[[str, str], Any],
    size: int,
    c: ParamReader,
) -> Iterator[tuple[dict[str, Any], dict[str, pd.DataFrame]]]:
    """The Spark engine: executors write the shards to the staging folder; each shard is
    then handed to the store as a :class:`StagedPartition` (moved, not copied through
    the driver) with its log."""
    from stronglens_calibration.datasets.streamed_partitions import StagedPartition
    from stronglens_calibration.spark.cutouts import read_cutouts_spark, staged_shard_path
    from stronglens_calibration.spark.session import active_session

    staging = str(c.raw("staging_dir"))
    log = read_cutouts_spark(
        slots,
        raw_cutouts,
        coadd_bricks,
        size,
        str(c.raw("parquet_npz_column")),
        staging,
        active_session(),
    )
    for shard, rows in log.groupby("shard", sort=True):
        name = shard_name(int(shard))
        entries = rows.drop(columns=["shard", "offset"]).reset_index(drop=True)
        yield {name: StagedPartition(staged_shard_path(staging, int(shard)))}, {name: entries}
    # every staged shard has been moved into the store by now: drop the empty folder
    import fsspec

    from stronglens_calibration.datasets.fsspec_file import normalise_uri

    fs, root = fsspec.core.url_to_fs(normalise_uri(staging))
    if fs.exists(root) and not fs.ls(root):
        fs.rm(root, recursive=True)


def assemble_objects(
    plan: pd.DataFrame,
    cutout_log: dict[str, Callable[[], pd.DataFrame]],
    positives_quarantine: pd.DataFrame,
    selection_quarantine: pd.DataFrame,
    positives_report: dict[str, Any],
    selection_report: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The object table (one row per object, provenance included), quarantine and report.

    Returns
    -------
    objects : pandas.DataFrame
        ARCHITECTURE.md §3 ingest columns plus provenance (``cutout_file``,
        ``cutout_origin``, ``reader``, ``bands_present``, ``cutout_error``).
    quarantine : pandas.DataFrame
        Input rows that did not become objects, with ``stage`` and ``reason``.
    report : dict
        Counts per source, per cut, per tier and per cutout outcome.
    """
    shards = sorted({shard_name(int(s)) for s in plan.loc[plan["shard"] >= 0, "shard"]})
    missing = [s for s in shards if s not in cutout_log]
    if missing:
        raise ValueError(f"cutout_log lacks shard(s) {missing}; rerun read_cutouts_node")
    log = pd.concat([cutout_log[s]() for s in shards], ignore_index=True)
    objects = plan.merge(log, on="object_id", how="left", suffixes=("", "_read"))
    read_error = objects["cutout_error_read"].fillna("")
    objects["cutout_error"] = np.where(read_error != "", read_error, objects["cutout_error"])
    objects = objects.drop(columns="cutout_error_read")
    for col in ("reader", "bands_present"):
        objects[col] = objects[col].fillna("").astype(str)
    missing_band = (objects["cutout_error"] == "") & (
        objects["bands_present"].str.len() < len(BANDS)
    )
    objects.loc[missing_band, "cutout_error"] = "missing band " + objects.loc[
        missing_band, "bands_present"
    ].map(lambda present: "".join(b for b in BANDS if b not in present))
    if objects["object_id"].duplicated().any():
        raise ValueError("object_id is not unique after ingest; this is a bug")
    quarantine = pd.concat([positives_quarantine, selection_quarantine], ignore_index=True).reindex(
        columns=QUARANTINE_COLUMNS
    )
    report = {
        "positives": positives_report,
        "selection": selection_report,
        "objects": int(len(objects)),
        "per_class": {str(k): int(v) for k, v in objects["label"].value_counts().items()},
        "per_tier": {
            str(k): int(v)
            for k, v in objects.loc[objects["label"] == 1, "tier"].value_counts().items()
        },
        "cutouts": {
            "per_origin": Counter(objects["cutout_origin"].replace("", "none")),
            "per_reader": Counter(objects["reader"].replace("", "none")),
            "errors": Counter(objects.loc[objects["cutout_error"] != "", "cutout_error"]),
        },
        "quarantined_at_ingest": int(len(quarantine)),
    }
    report["cutouts"] = {
        k: {str(a): int(b) for a, b in v.items()} for k, v in report["cutouts"].items()
    }
    return objects, quarantine, report
