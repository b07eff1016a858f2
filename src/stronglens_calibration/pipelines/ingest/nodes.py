"""Nodes of the ``ingest`` pipeline."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.catalogues.lenscat import (
    build_positives,
    select_candidates,
    unselected_by_label,
)
from stronglens_calibration.catalogues.sweep_tree import checked_sweep_files, sweep_plan_table
from stronglens_calibration.engines import get_engine, is_spark_table
from stronglens_calibration.pipelines.ingest.config import IngestConfig
from stronglens_calibration.schema import quarantine_table, reason_kind
from stronglens_calibration.stamps.cutout_index import CutoutIndex
from stronglens_calibration.stamps.cutout_service import fill_from_service
from stronglens_calibration.stamps.generations import STORE_COLUMN, new_store_id
from stronglens_calibration.stamps.store import assign_shards, shard_name
from stronglens_calibration.storage.fits_table import FITSTable
from stronglens_calibration.tracking.hooks import table_fingerprint

logger = logging.getLogger(__name__)


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
    p = IngestConfig.from_params(params).positives
    if len(lens_candidates) == 0:
        raise ValueError(
            "lens_candidates (the lenscat table, catalog entry 'lens_candidates') has no rows: "
            "a header-only or empty file; nothing to train on"
        )
    cands = select_candidates(
        lens_candidates,
        p.ref_patterns,
        p.name_patterns,
        gradings=list(p.tiers),
        lens_types=p.lens_types,
    )
    if len(cands) == 0:
        left = unselected_by_label(
            lens_candidates, p.ref_patterns, p.name_patterns, list(p.tiers), p.lens_types
        )
        raise ValueError(
            f"none of the {len(lens_candidates)} lens_candidates rows is a wanted candidate "
            "(ingest.positives: reference/name patterns, gradings, lens types); rows of the "
            f"wanted references left out by grading or type: {left}"
        )
    positives, quarantine = build_positives(cands, p.tiers, p.merge_radius_arcsec)
    report = {
        "lenscat_rows": int(len(lens_candidates)),
        "candidates_matching_references": int(len(cands)),
        # rows of the wanted references left out by grading or type, per value
        "reference_rows_not_selected": unselected_by_label(
            lens_candidates,
            p.ref_patterns,
            p.name_patterns,
            list(p.tiers),
            p.lens_types,
        ),
        "candidate_rows_quarantined": {
            r: int(n) for r, n in quarantine["reason"].map(reason_kind).value_counts().items()
        },
        "positives": int(len(positives)),
    }
    logger.info("%d lens candidates -> %d positives", len(cands), len(positives))
    return positives, quarantine.drop(columns="source_row"), report


def check_sweep_files(
    negative_pool: dict[str, Callable[[], FITSTable]] | Any, params: dict[str, Any]
) -> dict[str, Any]:
    """Which sweep files to scan, checked before any scan starts.

    Companion files (``-ex``, ``-lc``, ``-pz``) are skipped by name, the newest release of
    each sky box is kept (``10.1`` over ``10.0``), and every chosen file's header (not its
    rows) must hold the columns the scan reads, compared case-insensitively; otherwise
    the run stops here naming every file that does not fit.

    Returns
    -------
    dict
        ``chosen`` (key, box, release, photsys, rows per file), ``skipped`` (key and
        reason), ``rows`` (total); ``chosen`` is ``None`` for a Spark table of rows.
    """
    IngestConfig.from_params(params)
    if is_spark_table(negative_pool):
        return {"chosen": None, "skipped": [], "rows": None}
    chosen, skipped, rows = checked_sweep_files(negative_pool, "the negative_pool folder")
    for item in skipped:
        logger.info("sweep file %s skipped: %s", item["key"], item["reason"])
    plan = sweep_plan_table(chosen, rows)
    logger.info(
        "%d sweep files to scan (%d rows), %d skipped", len(plan), sum(rows.values()), len(skipped)
    )
    return {"chosen": plan, "skipped": skipped, "rows": int(sum(rows.values()))}


def select_sample(
    positives: pd.DataFrame,
    negative_pool: dict[str, Callable[[], FITSTable]] | Any,
    sweep_files: dict[str, Any],
    lens_candidates: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Positives' photometry, symmetric cuts, exclusion and stratified negatives.

    See :func:`stronglens_calibration.catalogues.selection.select_objects`; the engine
    (``ingest.engine``) decides where the sweep files are scanned. A ``negative_pool``
    that is a Spark table of sweep rows (a ``spark.SparkDataset`` written by the
    ``sweeps_to_parquet`` pipeline) is scanned by Spark, one file per group.
    """
    cfg = IngestConfig.from_params(params)
    engine = get_engine("spark" if is_spark_table(negative_pool) else cfg.engine)
    chosen = sweep_files["chosen"]
    if chosen is None:
        result = engine.select(positives, negative_pool, lens_candidates, cfg.selection)
    else:
        pool = {f["key"]: negative_pool[f["key"]] for f in chosen}
        photsys = {f["key"]: f["photsys"] for f in chosen if f["photsys"]}
        result = engine.select(positives, pool, lens_candidates, cfg.selection, photsys)
    report = {**result.report, "sweep_files": {k: sweep_files[k] for k in ("skipped", "rows")}}
    _check_shortfall(report, cfg.selection.max_negative_shortfall)
    return result.objects, result.quarantine, report


def _check_shortfall(report: dict[str, Any], max_shortfall: float) -> None:
    """Stop when the negatives fall short of the requested number by more than allowed
    (an incomplete sweep folder, cuts too strict for the region)."""
    neg = report["negatives"]
    target = sum(neg["per_stratum_target"].values()) + sum(neg["per_hard_category_target"].values())
    missing = target - neg["selected"]
    if target and missing / target > max_shortfall:
        raise ValueError(
            f"only {neg['selected']} of the {target} negatives asked for were found "
            f"({missing / target:.0%} short; per stratum: {neg['shortfall']}). Is the sweep "
            "folder complete for the positives' sky? Relax with "
            f"'ingest.sampling.max_negative_shortfall' (now {max_shortfall})."
        )


def plan_cutouts(
    selection: pd.DataFrame, raw_cutouts: dict[str, Callable[[], bytes]], params: dict[str, Any]
) -> pd.DataFrame:
    """Find each object's cutout (file, parquet row, coadd brick or the cutout service) and
    its slot.

    With ``ingest.bricks.enabled`` an object without a cutout file whose sweep row names
    a brick is cut from that brick (``cutout_origin`` ``brick``, ``cutout_file``
    ``brick:<name>``); such objects are placed brick by brick in the store, so that each
    brick image is opened about once.

    Cutouts are found by the position they hold (:mod:`~.stamps.cutout_index`): the
    nearest within ``ingest.cutouts.match_radius_arcsec`` of the object.

    Returns
    -------
    plan : pandas.DataFrame
        The selection with ``cutout_file``, ``cutout_row``, ``cutout_sep_arcsec``,
        ``cutout_origin``, ``shard`` and ``offset`` (-1 for objects without a cutout, whose
        ``cutout_error`` says why) and ``stamp_store``, the new generation of the stamp
        store these stamps are written into
        (:mod:`~stronglens_calibration.stamps.generations`).
    index_report : dict
        Files indexed, how they were located, unlocated, ambiguous and unmatched ones.
    """
    cfg = IngestConfig.from_params(params)
    index = CutoutIndex.from_partitions(
        raw_cutouts, cfg.cutouts.parquet_npz_column, cfg.cutouts.limits
    )
    plan = selection.reset_index(drop=True)
    located, index_report = index.locate(
        plan["ra"].to_numpy(), plan["dec"].to_numpy(), cfg.cutouts.match_radius_arcsec
    )
    index_report["ambiguous_examples"] = (
        plan["object_id"].to_numpy()[index_report["ambiguous_examples"]].tolist()
    )
    for what in ("unlocated", "ambiguous", "unmatched_files"):
        if index_report[what]:
            logger.warning(
                "cutouts: %d %s (e.g. %s)",
                index_report[what],
                what.replace("_", " "),
                index_report[f"{what.replace('_files', '')}_examples"][:3],
            )
    plan = pd.concat([plan, located], axis=1)
    plan["cutout_origin"] = np.where(
        plan["cutout_file"] == "", "", np.where(plan["cutout_row"] >= 0, "table", "file")
    )
    plan["cutout_error"] = np.where(plan["cutout_file"] == "", "missing file", "")
    if cfg.bricks.enabled:
        plan = _plan_bricks(plan)
    plan = fill_from_service(plan, cfg.service)
    found = (plan["cutout_file"] != "").to_numpy()
    if not found.any():
        raise ValueError(
            "no cutout was found for any selected object: check the raw_cutouts path, the "
            "file names (cutout_<ra>_<dec>.fits/.npz) or enable 'ingest.cutout_service'"
        )
    plan["shard"], plan["offset"] = assign_shards(found, cfg.cutouts.shard_size)
    # this ingest's stamps go into a new generation of the store, beside the current one
    plan[STORE_COLUMN] = new_store_id()
    logger.info(
        "cutouts: %d found, %d missing; stamp-store generation %s",
        found.sum(),
        (~found).sum(),
        plan[STORE_COLUMN].iloc[0],
    )
    return plan, index_report


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
        ``{"<generation>/part-NNNNN": float32 (n, 3, H, W)}``, g, r, z, nanomaggies per
        pixel, into the plan's ``stamp_store`` generation; an unreadable cutout leaves a
        NaN slot.
    log : dict
        ``{"part-NNNNN": DataFrame}`` with ``object_id``, ``reader``, ``bands_present``
        and ``cutout_error`` of each slot.
    """
    c = IngestConfig.from_params(params)
    slots = plan[plan["shard"] >= 0].sort_values(["shard", "offset"])
    shards = get_engine(c.engine).read_cutouts(
        slots,
        raw_cutouts,
        coadd_bricks,
        c.cutouts.stamp_size,
        c.cutouts.parquet_npz_column,
        c.cutouts.n_workers,
        c.cutouts.staging_dir,
        c.cutouts.checks,
        c.cutouts.limits,
    )
    generation = str(plan[STORE_COLUMN].iloc[0])
    for name, stamps, log in shards:
        yield {f"{generation}/{name}": stamps}, {name: log}


def assemble_objects(
    plan: pd.DataFrame,
    cutout_log: dict[str, Callable[[], pd.DataFrame]],
    positives_quarantine: pd.DataFrame,
    selection_quarantine: pd.DataFrame,
    positives_report: dict[str, Any],
    selection_report: dict[str, Any],
    cutout_index: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The object table (one row per object, provenance included), quarantine and report.

    Returns
    -------
    objects : pandas.DataFrame
        The columns of :data:`~stronglens_calibration.schema.INGEST_COLUMNS`, provenance
        included (``cutout_file``, ``cutout_origin``, ``reader``, ``bands_present``,
        ``cutout_error``).
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
    quarantine = quarantine_table(positives_quarantine, selection_quarantine)
    report = {
        "positives": positives_report,
        "selection": selection_report,
        "objects": int(len(objects)),
        "per_class": {str(k): int(v) for k, v in objects["label"].value_counts().items()},
        "per_tier": {
            str(k): int(v)
            for k, v in objects.loc[objects["label"] == 1, "tier"].value_counts().items()
        },
        "cutout_index": cutout_index,
        "cutouts": {
            "per_origin": Counter(objects["cutout_origin"].replace("", "none")),
            "per_reader": Counter(objects["reader"].replace("", "none")),
            "errors": Counter(
                objects.loc[objects["cutout_error"] != "", "cutout_error"].map(reason_kind)
            ),
        },
        "quarantined_at_ingest": int(len(quarantine)),
    }
    report["cutouts"] = {
        k: {str(a): int(b) for a, b in v.items()} for k, v in report["cutouts"].items()
    }
    # the table this report describes (the run report flags a pair a stopped run split)
    report["describes"] = {"objects_ingested": table_fingerprint(objects)}
    return objects, quarantine, report
