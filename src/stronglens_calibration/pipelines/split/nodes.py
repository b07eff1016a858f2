"""Nodes of the ``split`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.reweighting import histogram_weights, subsample_mask
from stronglens_calibration.engines import get_engine
from stronglens_calibration.pipelines.split.config import SPLITS, SplitConfig
from stronglens_calibration.sky.healpix import parent_pixels, region_holdout
from stronglens_calibration.sky.matching import pairs_within
from stronglens_calibration.stamps.generations import shards_for_table
from stronglens_calibration.stats import cohens_d
from stronglens_calibration.tracking.hooks import table_fingerprint

logger = logging.getLogger(__name__)


def _check_coordinates(objects: pd.DataFrame) -> None:
    ra, dec = objects["ra"].to_numpy(float), objects["dec"].to_numpy(float)
    bad = ~(np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra < 360) & (np.abs(dec) <= 90))
    if bad.any():
        ids = objects.loc[bad, "object_id"].tolist()
        raise ValueError(
            f"{bad.sum()} object(s) have non-finite or out-of-range coordinates "
            f"(quarantine them upstream): {ids[:10]}"
        )


def _resolve_overlaps(table: pd.DataFrame, radius_arcsec: float) -> list[dict[str, Any]]:
    """Drop from the smaller split every object whose stamp overlaps one in another split."""
    pairs = pairs_within(table["ra"].to_numpy(), table["dec"].to_numpy(), radius_arcsec)
    sizes = table["split"].value_counts()
    split = table["split"].to_numpy(object).copy()
    removed = []
    for i, j in pairs:
        a, b = split[i], split[j]
        if a == b or "" in (a, b):
            continue
        drop, keep = (i, j) if sizes.get(a, 0) <= sizes.get(b, 0) else (j, i)
        removed.append(
            {
                "dropped": table.at[drop, "object_id"],
                "dropped_split": split[drop],
                "kept": table.at[keep, "object_id"],
                "kept_split": split[keep],
            }
        )
        split[drop] = ""
    table["split"] = split
    return removed


def assign_split(
    objects: pd.DataFrame, params: dict[str, Any], stamps: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list]:
    """``healpix`` and ``split`` for every object, stamp overlaps across splits resolved.

    With ``stamps`` (the stamp store), a table that does not describe the store's stamps
    is refused before anything is split
    (:func:`~stronglens_calibration.stamps.generations.shards_for_table`).

    Returns
    -------
    objects : pandas.DataFrame
        ``objects_qc`` plus ``healpix`` (int64, NESTED), ``region_holdout`` (bool: in a
        coarse pixel held out whole, all test) and ``split`` (``train``, ``val``,
        ``test``, or ``""`` for an object dropped by the overlap rule).
    overlaps : list of dict
        The pairs resolved.
    """
    cfg = SplitConfig.from_params(params)
    if stamps is not None:
        shards_for_table(objects, stamps, "objects_qc")
    _check_coordinates(objects)
    table = objects.reset_index(drop=True).copy()
    held, regions = region_holdout(
        table["ra"].to_numpy(float),
        table["dec"].to_numpy(float),
        cfg.region_holdout.nside,
        cfg.seed,
        cfg.region_holdout.fraction,
        max_fraction=cfg.fractions.test,
    )
    fine = cfg.fine_fractions(float(held.mean()) if held.size else 0.0)
    assigned = get_engine(cfg.engine).assign_splits(table, cfg.nside, cfg.seed, fine)
    table["healpix"] = assigned["healpix"].to_numpy()
    table["region_holdout"] = held
    table["split"] = np.where(held, "test", assigned["split"].to_numpy(object)).astype(object)
    overlaps = _resolve_overlaps(table, cfg.overlap_radius_arcsec)
    logger.info(
        "split: %s; %d objects in %d held-out nside-%d regions (all test); "
        "%d overlap pairs resolved",
        table["split"].value_counts().to_dict(),
        int(held.sum()),
        regions.size,
        cfg.region_holdout.nside,
        len(overlaps),
    )
    return table, overlaps


def match_negatives(table: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """``sample_weight`` so that negatives follow the positives within each split.

    Returns
    -------
    table : pandas.DataFrame
        With ``sample_weight`` (float32): 1 for positives, the matching weight (or 1/0
        when subsampling) for negatives, 0 for objects that are not ``cutout_ok`` or not
        in a split.
    matching : dict
        Per split and variable, Cohen's d between classes before and after.
    """
    cfg = SplitConfig.from_params(params)
    method, variables = cfg.matching.method, list(cfg.matching.variables)
    missing = [v for v in variables if v not in table.columns]
    if missing:
        raise ValueError(f"parameter 'split.matching.variables' names unknown column(s) {missing}")
    weight = np.zeros(len(table), dtype=np.float64)
    usable = table["cutout_ok"].to_numpy(bool) & (table["split"] != "").to_numpy()
    report: dict[str, Any] = {"method": method, "variables": variables}
    for name in SPLITS:
        rows = usable & (table["split"] == name).to_numpy()
        pos = rows & (table["label"] == 1).to_numpy()
        neg = rows & (table["label"] == 0).to_numpy()
        weight[pos] = 1.0
        ref = table.loc[pos, variables].dropna()
        negs = table.loc[neg, variables]
        if method == "reweight":
            w = histogram_weights(ref, negs, cfg.matching.n_bins)
        elif method == "subsample":
            ids = table.loc[neg, "object_id"]
            w = subsample_mask(ref, negs, ids, cfg.matching.n_bins, cfg.seed).astype(float)
        else:
            w = np.ones(neg.sum())
        weight[neg] = w
        report[name] = {
            v: {
                "before": cohens_d(table.loc[pos, v], table.loc[neg, v]),
                "after": cohens_d(table.loc[pos, v], table.loc[neg, v], None, w),
            }
            for v in variables
        }
        report[name]["negatives_with_weight"] = int((w > 0).sum())
    out = table.copy()
    out["sample_weight"] = weight.astype(np.float32)
    return out, report


def _fraction_table(
    table: pd.DataFrame, fractions: dict[str, float], tiers: tuple[str, ...]
) -> dict[str, Any]:
    groups = {
        "all": np.ones(len(table), bool),
        "negatives": (table["label"] == 0).to_numpy(),
        "positives": (table["label"] == 1).to_numpy(),
        **{f"tier_{t}": (table["tier"] == t).to_numpy() for t in tiers},
    }
    out = {}
    for group, mask in groups.items():
        n = int(mask.sum())
        counts = table.loc[mask, "split"].value_counts()
        out[group] = {
            "n": n,
            "actual": {s: (float(counts.get(s, 0)) / n if n else float("nan")) for s in SPLITS},
            "counts": {s: int(counts.get(s, 0)) for s in SPLITS},
            "target": fractions,
        }
    return out


def _region_holdout_summary(usable: pd.DataFrame, cfg: SplitConfig) -> dict[str, Any]:
    """The held-out coarse regions: which, how many objects of each class and tier, and
    any that also hold train or val objects (there must be none)."""
    coarse = parent_pixels(usable["healpix"], cfg.nside, cfg.region_holdout.nside)
    held = usable["region_holdout"].to_numpy(bool)
    regions = np.unique(coarse[held])
    in_regions = np.isin(coarse, regions)
    elsewhere = in_regions & usable["split"].isin(["train", "val"]).to_numpy()
    test = (usable["split"] == "test").to_numpy()
    label = usable["label"].to_numpy(int)
    tier = usable["tier"].fillna("").astype(str).to_numpy()
    return {
        "nside": cfg.region_holdout.nside,
        "target_fraction": cfg.region_holdout.fraction,
        "fraction": float(held.mean()) if held.size else float("nan"),
        "n_regions": int(regions.size),
        "regions": regions.tolist(),
        "test_counts": {
            where: {
                "positives": int((mask & (label == 1)).sum()),
                "negatives": int((mask & (label == 0)).sum()),
                **{f"tier_{t}": int((mask & (tier == t)).sum()) for t in cfg.tier_names},
            }
            for where, mask in (("held_out_regions", test & held), ("fine_pixels", test & ~held))
        },
        "shared_with_train_or_val": sorted(int(c) for c in np.unique(coarse[elsewhere])),
    }


def build_split_report(
    table: pd.DataFrame, overlaps: list, matching: dict, params: dict[str, Any]
) -> dict[str, Any]:
    """Targets against measured fractions, pixels, overlaps and matching, with verdicts."""
    cfg = SplitConfig.from_params(params)
    fractions, tol, min_n = cfg.targets, cfg.tolerance, cfg.min_class_size_enforced
    usable = table[table["cutout_ok"] & (table["split"] != "")]
    fractions_measured = _fraction_table(usable, fractions, cfg.tier_names)
    failures = []
    for group, entry in fractions_measured.items():
        entry["enforced"] = entry["n"] >= min_n
        entry["max_abs_error"] = (
            max(abs(entry["actual"][s] - fractions[s]) for s in SPLITS)
            if entry["n"]
            else float("nan")
        )
        if entry["enforced"] and entry["max_abs_error"] > tol:
            failures.append(
                f"{group}: target {fractions}, actual "
                f"{ {s: round(v, 3) for s, v in entry['actual'].items()} } (tolerance {tol})"
            )
    pixels = {s: set(usable.loc[usable["split"] == s, "healpix"]) for s in SPLITS}
    shared = {
        f"{a}&{b}": len(pixels[a] & pixels[b])
        for i, a in enumerate(SPLITS)
        for b in SPLITS[i + 1 :]
    }
    if any(shared.values()):
        failures.append(f"HEALPix pixels shared between splits: {shared}")
    regions = _region_holdout_summary(usable, cfg)
    if regions["shared_with_train_or_val"]:
        failures.append(
            f"held-out nside-{cfg.region_holdout.nside} regions that also hold train or val "
            f"objects: {regions['shared_with_train_or_val']}"
        )
    balance = {
        s: float(usable.loc[usable["split"] == s, "label"].mean())
        if (usable["split"] == s).any()
        else float("nan")
        for s in SPLITS
    }
    report = {
        "nside": cfg.nside,
        "targets": fractions,
        "tolerance": tol,
        "fractions": fractions_measured,
        "positive_fraction_per_split": balance,
        "pixels_per_split": {s: len(v) for s, v in pixels.items()},
        "shared_pixels": shared,
        "region_holdout": regions,
        "overlap_pairs_removed": len(overlaps),
        "overlaps": overlaps[:100],
        "matching": matching,
        "objects_not_ok": int((~table["cutout_ok"]).sum()),
        "failures": failures,
        "passed": not failures,
        # the table this report describes (the run report flags a pair a stopped run split)
        "describes": {"objects_split": table_fingerprint(table)},
    }
    return report


def verify_split(report: dict[str, Any]) -> None:
    """Stop the run when a split check failed, showing target against actual."""
    if not report["passed"]:
        raise ValueError("split verification failed:\n  " + "\n  ".join(report["failures"]))
    logger.info(
        "split verified: %s",
        {s: round(v, 3) for s, v in report["fractions"]["all"]["actual"].items()},
    )


def plot_sky_map(table: pd.DataFrame, params: dict[str, Any]) -> matplotlib.figure.Figure:
    """The split on the sky (:func:`~stronglens_calibration.sky.plots.split_sky_map`)."""
    from stronglens_calibration.sky.plots import split_sky_map

    cfg = SplitConfig.from_params(params)
    held = table["region_holdout"].to_numpy(bool) & (table["split"] == "test").to_numpy()
    regions = np.unique(
        parent_pixels(table.loc[held, "healpix"], cfg.nside, cfg.region_holdout.nside)
    )
    return split_sky_map(table, cfg.nside, regions, cfg.region_holdout.nside)
