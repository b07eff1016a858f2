"""Nodes of the ``split`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.reweighting import (
    cohens_d,
    histogram_weights,
    subsample_mask,
)
from stronglens_calibration.checks import ParamReader
from stronglens_calibration.sky.healpix import assign_splits, healpix_nested
from stronglens_calibration.sky.matching import pairs_within

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def _fractions(p: ParamReader) -> dict[str, float]:
    f = p.section("fractions")
    fractions = {name: f.fraction(name) for name in SPLITS}
    if abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise ValueError(
            f"parameter 'split.fractions' must sum to 1, got {sum(fractions.values()):.6f} "
            f"({fractions})"
        )
    return fractions


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


def assign_split(objects: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, list]:
    """``healpix`` and ``split`` for every object, stamp overlaps across splits resolved.

    Returns
    -------
    objects : pandas.DataFrame
        ``objects_qc`` plus ``healpix`` (int64, NESTED) and ``split`` (``train``,
        ``val``, ``test``, or ``""`` for an object dropped by the overlap rule).
    overlaps : list of dict
        The pairs resolved.
    """
    p = ParamReader(params, "split")
    nside = p.integer("nside", low=1)
    fractions = _fractions(p)
    o = p.section("overlap")
    o.choice("rule", ["drop_from_smaller_split"])
    radius = o.integer("stamp_size", low=1) / 2 * o.positive("pixel_scale") * np.sqrt(2)
    _check_coordinates(objects)
    table = objects.reset_index(drop=True).copy()
    if p.choice("engine", ["pandas", "spark"]) == "spark":
        from stronglens_calibration.spark.session import active_session
        from stronglens_calibration.spark.split import assign_splits_spark

        assigned = assign_splits_spark(table, nside, p.integer("seed"), fractions, active_session())
        table["healpix"] = assigned["healpix"].to_numpy()
        table["split"] = assigned["split"].to_numpy()
    else:
        table["healpix"] = healpix_nested(table["ra"], table["dec"], nside)
        table["split"] = assign_splits(
            table["healpix"].to_numpy(), nside, p.integer("seed"), fractions
        )
    overlaps = _resolve_overlaps(table, radius)
    logger.info(
        "split: %s; %d overlap pairs resolved",
        table["split"].value_counts().to_dict(),
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
    m = ParamReader(params, "split").section("matching")
    method = m.choice("method", ["none", "reweight", "subsample"])
    variables = list(m.strings("variables"))
    missing = [v for v in variables if v not in table.columns]
    if missing:
        raise ValueError(f"parameter 'split.matching.variables' names unknown column(s) {missing}")
    n_bins = m.integer("n_bins", low=1)
    seed = ParamReader(params, "split").integer("seed")
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
            w = histogram_weights(ref, negs, n_bins)
        elif method == "subsample":
            w = subsample_mask(ref, negs, table.loc[neg, "object_id"], n_bins, seed).astype(float)
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


def _fraction_table(table: pd.DataFrame, fractions: dict[str, float]) -> dict[str, Any]:
    groups = {
        "all": np.ones(len(table), bool),
        "negatives": (table["label"] == 0).to_numpy(),
        "positives": (table["label"] == 1).to_numpy(),
        "tier_A": (table["tier"] == "A").to_numpy(),
        "tier_B": (table["tier"] == "B").to_numpy(),
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


def build_split_report(
    table: pd.DataFrame, overlaps: list, matching: dict, params: dict[str, Any]
) -> dict[str, Any]:
    """Targets against measured fractions, pixels, overlaps and matching, with verdicts."""
    p = ParamReader(params, "split")
    fractions = _fractions(p)
    tol = p.fraction("tolerance")
    min_n = p.integer("min_class_size_enforced", low=0)
    usable = table[table["cutout_ok"] & (table["split"] != "")]
    fractions_measured = _fraction_table(usable, fractions)
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
    balance = {
        s: float(usable.loc[usable["split"] == s, "label"].mean())
        if (usable["split"] == s).any()
        else float("nan")
        for s in SPLITS
    }
    report = {
        "nside": p.integer("nside", low=1),
        "targets": fractions,
        "tolerance": tol,
        "fractions": fractions_measured,
        "positive_fraction_per_split": balance,
        "pixels_per_split": {s: len(v) for s, v in pixels.items()},
        "shared_pixels": shared,
        "overlap_pairs_removed": len(overlaps),
        "overlaps": overlaps[:100],
        "matching": matching,
        "objects_not_ok": int((~table["cutout_ok"]).sum()),
        "failures": failures,
        "passed": not failures,
    }
    return report


def split_objects(
    objects_qc: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Assign, resolve overlaps, match negatives and measure (verification is a node of
    its own, so that the report is saved even when a check fails)."""
    table, overlaps = assign_split(objects_qc, params)
    table, matching = match_negatives(table, params)
    return table, build_split_report(table, overlaps, matching, params)


def verify_split(report: dict[str, Any]) -> None:
    """Stop the run when a split check failed, showing target against actual."""
    if not report["passed"]:
        raise ValueError("split verification failed:\n  " + "\n  ".join(report["failures"]))
    logger.info(
        "split verified: %s",
        {s: round(v, 3) for s, v in report["fractions"]["all"]["actual"].items()},
    )


def plot_sky_map(table: pd.DataFrame, params: dict[str, Any]) -> matplotlib.figure.Figure:
    """Mollweide map (healpy projection) of the pixels coloured by split, positives marked.

    RA increases to the left (the astronomical convention); drawn without pyplot.
    """
    import healpy

    nside = ParamReader(params, "split").integer("nside", low=1)
    proj = healpy.projector.MollweideProj(xsize=1200, flipconv="astro")
    outline = proj.projmap(np.zeros(12), lambda x, y, z: healpy.vec2pix(1, x, y, z))
    fig = matplotlib.figure.Figure(figsize=(12, 6.8))
    ax = fig.add_subplot()
    ax.imshow(
        np.where(np.isfinite(outline), 0.12, np.nan),
        origin="lower",
        extent=proj.get_extent(),
        cmap="Greys",
        vmin=0,
        vmax=1,
    )
    placed = table[table["split"] != ""]
    colours = {"train": "#4477aa", "val": "#ee7733", "test": "#228833"}
    for split, colour in colours.items():
        pix = np.unique(placed.loc[placed["split"] == split, "healpix"].to_numpy())
        lon, lat = healpy.pix2ang(nside, pix, nest=True, lonlat=True)
        x, y = proj.ang2xy(lon, lat, lonlat=True)
        n = int((placed["split"] == split).sum())
        ax.scatter(
            x,
            y,
            s=9,
            marker="s",
            c=colour,
            linewidths=0,
            label=f"{split}: {n} objects in {pix.size} pixels",
        )
    pos = table[table["label"] == 1]
    x, y = proj.ang2xy(pos["ra"].to_numpy(), pos["dec"].to_numpy(), lonlat=True)
    ax.scatter(x, y, s=1.5, c="black", label=f"positives ({len(pos)})")
    ax.legend(loc="lower right", fontsize=8, frameon=False, markerscale=1.5)
    ax.set_axis_off()
    ax.set_title(
        f"region-disjoint split by HEALPix pixel (nside {nside}, NESTED); "
        "Mollweide, RA increasing to the left",
        fontsize=10,
    )
    return fig
