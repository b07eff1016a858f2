"""Lens candidates from the lenscat catalogue."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from stronglens_calibration.sky.matching import pairs_within

#: lenscat columns (the file the ``lenscat`` package ships).
LENSCAT_COLUMNS: tuple[str, ...] = (
    "name", "RA [deg]", "DEC [deg]", "zlens", "type", "grading", "ref",
)  # fmt: skip


def check_lenscat_columns(table: pd.DataFrame) -> None:
    """Raise ``ValueError`` naming the lenscat columns a table lacks."""
    missing = [c for c in LENSCAT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"lens_candidates lacks lenscat column(s) {missing}; found {list(table.columns)}"
        )


def matches_patterns(
    table: pd.DataFrame, ref_patterns: Sequence[str], name_patterns: Sequence[str]
) -> np.ndarray:
    """Whether each row's ``ref`` or ``name`` matches any of the regular expressions."""
    hit = np.zeros(len(table), dtype=bool)
    for pat in ref_patterns:
        hit |= table["ref"].astype(str).str.contains(re.compile(pat)).to_numpy()
    for pat in name_patterns:
        hit |= table["name"].astype(str).str.contains(re.compile(pat)).to_numpy()
    return hit


def select_candidates(
    lenscat: pd.DataFrame,
    ref_patterns: Sequence[str],
    name_patterns: Sequence[str],
    gradings: Sequence[str] = ("confident", "probable"),
    lens_types: Sequence[str] = ("galaxy",),
) -> pd.DataFrame:
    """Rows found in ground-based imaging (by reference or name) with a wanted grading.

    ``grading`` and ``type`` are compared without surrounding white space and case
    (``"confident "`` is ``confident``), and returned so normalised.

    Returns
    -------
    pandas.DataFrame
        The matching rows, in file order, with their original index.
    """
    ours, grading, kind, wanted = _selection(
        lenscat, ref_patterns, name_patterns, gradings, lens_types
    )
    keep = ours & wanted["grading"] & wanted["type"]
    return lenscat.loc[keep].assign(grading=grading[keep], type=kind[keep])


def _selection(
    lenscat: pd.DataFrame,
    ref_patterns: Sequence[str],
    name_patterns: Sequence[str],
    gradings: Sequence[str],
    lens_types: Sequence[str],
) -> tuple[np.ndarray, pd.Series, pd.Series, dict[str, np.ndarray]]:
    """Rows of the wanted references, the normalised grading and type, and which rows
    have a wanted grading and a wanted type."""
    check_lenscat_columns(lenscat)
    ours = matches_patterns(lenscat, ref_patterns, name_patterns)
    grading, kind = normalised_label(lenscat["grading"]), normalised_label(lenscat["type"])
    wanted = {
        "grading": grading.isin([g.strip().casefold() for g in gradings]).to_numpy(),
        "type": kind.isin([t.strip().casefold() for t in lens_types]).to_numpy(),
    }
    return ours, grading, kind, wanted


def normalised_label(column: pd.Series) -> pd.Series:
    """A text column stripped of surrounding white space and case-folded."""
    return column.astype(str).str.strip().str.casefold()


def unselected_by_label(
    lenscat: pd.DataFrame,
    ref_patterns: Sequence[str],
    name_patterns: Sequence[str],
    gradings: Sequence[str],
    lens_types: Sequence[str],
) -> dict[str, dict[str, int]]:
    """Rows of the wanted references left out by their grading or type, counted per
    value (so that an unexpected spelling shows up in the report rather than vanishing).
    """
    ours, grading, kind, wanted = _selection(
        lenscat, ref_patterns, name_patterns, gradings, lens_types
    )
    out = {}
    for name, values in (("grading", grading), ("type", kind)):
        left = values[ours & ~wanted[name]]
        out[name] = {str(v): int(n) for v, n in left.value_counts().items()}
    return out


def primary_alias(name: str) -> str:
    """The first of lenscat's ``" | "``-separated aliases."""
    return str(name).split("|")[0].strip()


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` items linked by ``pairs`` (union-find)."""
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


def build_positives(
    candidates: pd.DataFrame, tier_of_grading: Mapping[str, str], merge_radius_arcsec: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positives from selected lenscat rows: coordinates checked, duplicates merged.

    Parameters
    ----------
    candidates : pandas.DataFrame
        lenscat rows (see :func:`select_candidates`).
    tier_of_grading : Mapping
        lenscat grading to tier, most confident first (``{"confident": "A", ...}``).
    merge_radius_arcsec : float
        Rows closer than this are one object; the best tier (then the first row) is kept.

    Returns
    -------
    positives : pandas.DataFrame
        ``object_id`` (``lenscat:<first alias>``), ``ra``, ``dec`` (deg), ``label`` (1),
        ``tier``, ``origin`` (lenscat ``ref``), ``lenscat_name``.
    quarantine : pandas.DataFrame
        Rows not kept, with ``source_row``, ``object_id``, ``ra``, ``dec``, ``label``,
        ``stage`` and ``reason``.
    """
    ra = pd.to_numeric(candidates["RA [deg]"], errors="coerce").to_numpy(np.float64)
    dec = pd.to_numeric(candidates["DEC [deg]"], errors="coerce").to_numpy(np.float64)
    table = pd.DataFrame(
        {
            "source_row": candidates.index.to_numpy(),
            "object_id": ["lenscat:" + primary_alias(n) for n in candidates["name"]],
            "ra": ra,
            "dec": dec,
            "label": np.int8(1),
            "tier": normalised_label(candidates["grading"])
            .map({k.strip().casefold(): v for k, v in tier_of_grading.items()})
            .fillna("")
            .to_numpy(str),
            "origin": candidates["ref"].astype(str).to_numpy(),
            "lenscat_name": candidates["name"].astype(str).to_numpy(),
        }
    )
    reasons = pd.Series("", index=table.index, dtype=object)
    finite = np.isfinite(ra) & np.isfinite(dec)
    reasons[~finite] = "non-finite coordinates"
    in_range = finite & (ra >= 0) & (ra < 360) & (np.abs(dec) <= 90)
    reasons[finite & ~in_range] = "coordinates out of range"
    good = np.flatnonzero(in_range)
    if good.size:
        comp = _components(good.size, pairs_within(ra[good], dec[good], merge_radius_arcsec))
        order_of_tier = {t: i for i, t in enumerate(dict.fromkeys(tier_of_grading.values()))}
        rank = table.loc[good, "tier"].map(order_of_tier).fillna(len(order_of_tier)).to_numpy()
        order = np.lexsort((np.arange(good.size), rank))
        keeper: dict[int, int] = {}
        for k in order:
            keeper.setdefault(int(comp[k]), int(good[k]))
        for k, row in enumerate(good):
            kept = keeper[int(comp[k])]
            if kept != row:
                reasons[row] = f"duplicate position, merged into {table.at[kept, 'object_id']}"
    ok = (reasons == "").to_numpy()
    dup_id = table["object_id"].duplicated(keep="first").to_numpy() & ok
    reasons[dup_id] = "duplicate object_id at another position"
    ok = ok & ~dup_id
    quarantine = table.loc[~ok, ["source_row", "object_id", "ra", "dec", "label"]].copy()
    quarantine["stage"] = "ingest:lenscat"
    quarantine["reason"] = reasons[~ok].astype(str).to_numpy()
    positives = table.loc[ok].drop(columns="source_row").reset_index(drop=True)
    return positives, quarantine.reset_index(drop=True)
