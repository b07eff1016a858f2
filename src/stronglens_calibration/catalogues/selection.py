"""One streaming pass over the sweep catalogues: positives' photometry, cuts, exclusion,
and stratified, keyed-hash sampling of negatives with bounded memory."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration.catalogues.sampling import (
    SmallestKeys,
    keyed_uniform,
    keyed_uniform_ints,
)
from stronglens_calibration.catalogues.sweep_tree import photsys_of_positions, photsys_of_rows
from stronglens_calibration.catalogues.sweeps import (
    HARD_CONFUSER_CATEGORIES,
    SWEEP_COLUMNS,
    Cuts,
    HardConfuserRules,
    dr10_object_id_of_uid,
    dr10_uid,
    in_box,
    photometry,
    strata,
    sweep_box,
)
from stronglens_calibration.sky.matching import SkyIndex, pairs_within
from stronglens_calibration.storage.fits_table import FITSTable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SelectionConfig:
    """What the sweep pass selects and samples (built from ``params:ingest`` by the
    ingest pipeline's schema)."""

    seed: int
    limit: int | None
    cuts: Cuts
    apply_cuts_to_positives: bool
    exclusion_radius_arcsec: float
    photometry_match_radius_arcsec: float
    negatives_per_positive: float
    nobs_z_edges: tuple[int, ...]
    hard_confuser_fraction: float
    hard_rules: HardConfuserRules
    chunk_rows: int
    north_policy: str = "exclude"
    centre_on_tractor: bool = True
    duplicate_radius_arcsec: float = 0.5
    max_negative_shortfall: float = 0.1

    @property
    def by_photsys(self) -> bool:
        """Sampling strata split by photometric system (north kept as a stratum)."""
        return self.north_policy == "stratum"


def _allocate(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainders)."""
    names = sorted(weights)
    w = np.array([weights[n] for n in names], dtype=np.float64)
    if total <= 0 or w.sum() <= 0:
        return dict.fromkeys(names, 0)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return dict(zip(names, base.tolist(), strict=True))


@dataclass
class SelectionResult:
    """What the pass selected and what it counted."""

    objects: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]


@dataclass
class SweepContext:
    """What every sweep file is scanned against (picklable: shipped to workers).

    Attributes
    ----------
    cfg : SelectionConfig
        Validated parameters.
    positive_index, lenscat_index : SkyIndex
        The positives (photometry matching) and every lenscat entry (exclusion).
    normal_capacity : int
        Negatives kept per stratum (the most any quota can ask for).
    hard_capacity : int
        Hard confusers kept per category.
    """

    cfg: SelectionConfig
    positive_index: SkyIndex | None
    lenscat_index: SkyIndex
    normal_capacity: int
    hard_capacity: int
    file_photsys: dict[str, str] = field(default_factory=dict)

    def reservoirs(self) -> tuple[SmallestKeys, SmallestKeys]:
        """Empty per-stratum and per-category reservoirs of the right capacities."""
        return (
            SmallestKeys({}, default_capacity=self.normal_capacity, id_column="uid"),
            SmallestKeys(
                dict.fromkeys(HARD_CONFUSER_CATEGORIES, self.hard_capacity), id_column="uid"
            ),
        )


@dataclass
class SweepScan:
    """What one sweep file contributes; merged in file order by :class:`SelectionMerger`.

    Attributes
    ----------
    name : str
        Sweep file.
    normal, hard : pandas.DataFrame
        The file's candidates with the smallest keys per stratum / category
        (``_group`` column), at most the capacities.
    duplicates : list of dict
        Rows whose ``uid`` appeared twice.
    matches : pandas.DataFrame
        Every sweep row within the photometry radius of a positive: ``_positive``,
        ``photometry_sep_arcsec`` and the photometry, in the order a single pass would
        consider them.
    counts, cut_counts : Counter
        Rows read, rejected per cut, near lenscat, passing.
    """

    name: str
    normal: pd.DataFrame
    hard: pd.DataFrame
    duplicates: list[dict[str, Any]]
    matches: pd.DataFrame
    counts: Counter[str]
    cut_counts: Counter[str]


def scan_sweep_file(name: str, table: FITSTable, ctx: SweepContext) -> SweepScan:
    """Cuts, exclusion, keys and strata of one sweep file, chunk by chunk (a per-batch
    function: the pandas engine calls it in a loop, the Spark engine in ``mapInPandas``).
    """
    cfg = ctx.cfg
    normal, hard = ctx.reservoirs()
    counts: Counter[str] = Counter()
    cut_counts: Counter[str] = Counter()
    matches = []
    for raw in table.iter_chunks(list(SWEEP_COLUMNS), cfg.chunk_rows):
        counts["sweep_rows_read"] += len(raw)
        ra, dec = raw["RA"].to_numpy(np.float64), raw["DEC"].to_numpy(np.float64)
        finite = np.isfinite(ra) & np.isfinite(dec)
        counts["sweep_rows_nonfinite_coordinates"] += int((~finite).sum())
        chunk, ra, dec = raw[finite], ra[finite], dec[finite]
        if not len(chunk):
            continue
        phot = photometry(chunk.reset_index(drop=True))
        phot["photsys"] = photsys_of_rows(ctx.file_photsys.get(name, ""), ra, dec)
        uid = dr10_uid(chunk["RELEASE"], chunk["BRICKID"], chunk["OBJID"])
        if ctx.positive_index is not None:
            matches.append(_close_matches(ctx.positive_index, ra, dec, phot, cfg))
        fails = cfg.cuts.failures(phot, dec)
        passing = np.ones(len(phot), dtype=bool)
        for cut, bad in fails.items():
            cut_counts[cut] += int(bad.sum())
            passing &= ~bad
        near = ctx.lenscat_index.within(ra, dec, cfg.exclusion_radius_arcsec)
        counts["sweep_rows_near_lenscat"] += int((near & passing).sum())
        passing &= ~near
        counts["sweep_rows_passing"] += int(passing.sum())
        if not passing.any():
            continue
        cand = phot[passing].reset_index(drop=True)
        cand.insert(0, "uid", uid[passing])
        cand.insert(1, "ra", ra[passing])
        cand.insert(2, "dec", dec[passing])
        cand["origin"] = name
        cand["key"] = keyed_uniform_ints(cand["uid"].to_numpy(), cfg.seed)
        cand["stratum"] = strata(cand, cfg.nobs_z_edges, cfg.by_photsys)
        cand["confuser_category"] = cfg.hard_rules.categorise(cand)
        normal.offer(cand, cand["stratum"].to_numpy())
        hard.offer(cand, cand["confuser_category"].to_numpy())
    normal.counts(), hard.counts()  # settle: duplicates are found while pruning
    return SweepScan(
        name=name,
        normal=normal.held(),
        hard=hard.held(),
        duplicates=normal.duplicates + hard.duplicates,
        matches=pd.concat(matches, ignore_index=True) if matches else pd.DataFrame(),
        counts=counts,
        cut_counts=cut_counts,
    )


class SelectionMerger:
    """Folds :class:`SweepScan` results, in file order, into the selection a single pass
    over all files would make: per-stratum smallest keys are the smallest of the files'
    smallest keys, and positives keep their nearest sweep row (first file wins ties)."""

    def __init__(self, pos: pd.DataFrame, ctx: SweepContext) -> None:
        self.pos, self.ctx = pos, ctx
        self.normal, self.hard = ctx.reservoirs()
        self.best_sep = np.full(len(pos), np.inf)
        self.pos_phot: dict[int, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.cut_counts: Counter[str] = Counter()
        self.duplicates: list[dict[str, Any]] = []
        self._quotas: tuple[dict[str, int], dict[str, int]] | None = None

    def add(self, scan: SweepScan) -> None:
        """Fold one file in."""
        self.counts.update(scan.counts)
        self.cut_counts.update(scan.cut_counts)
        self.duplicates.extend(scan.duplicates)
        matches = scan.matches
        if len(matches):
            positive = matches["_positive"].to_numpy(np.int64)
            sep = matches["photometry_sep_arcsec"].to_numpy(np.float64)
            phot = matches.drop(columns=["_positive", "photometry_sep_arcsec"])
            for i in range(len(matches)):
                k = int(positive[i])
                if sep[i] < self.best_sep[k]:
                    self.best_sep[k] = sep[i]
                    # the row as a single pass keeps it: numpy scalars, original dtypes
                    self.pos_phot[k] = dict(phot.iloc[i], photometry_sep_arcsec=float(sep[i]))
        for reservoir, held in ((self.normal, scan.normal), (self.hard, scan.hard)):
            if len(held):
                reservoir.offer(held.drop(columns="_group"), held["_group"].to_numpy())

    def full(self) -> bool:
        """Whether the reservoirs hold what the final selection will take (for ``limit``)."""
        cfg = self.ctx.cfg
        if self._quotas is None:
            removed = _removed_by_cuts(self.pos, self.pos_phot, cfg)
            kept = {k: v for k, v in self.pos_phot.items() if not removed[k]}
            n_kept = int((~removed).sum())
            self._quotas = _quotas(n_kept, kept, cfg)[0], _hard_quotas(n_kept, cfg)
        quotas, hard_needed = self._quotas
        return self.normal.full(quotas) and self.hard.full(hard_needed)

    def finish(self) -> SelectionResult:
        """The selection, its quarantine and its report."""
        self.normal.counts(), self.hard.counts()
        duplicates = {
            r["uid"]: r for r in self.duplicates + self.normal.duplicates + self.hard.duplicates
        }
        return _finish(
            self.pos,
            self.pos_phot,
            self.best_sep,
            self.normal,
            self.hard,
            list(duplicates.values()),
            self.counts,
            self.cut_counts,
            self.ctx.cfg,
        )


@dataclass
class SelectionPlan:
    """The positives in key order, the scan context and the order to read sweep files in
    (files holding positives first, so that ``limit`` can stop early)."""

    pos: pd.DataFrame
    ctx: SweepContext
    order: list[str]
    n_first: int


def plan_selection(
    positives: pd.DataFrame,
    sweep_names: list[str],
    lenscat: pd.DataFrame,
    cfg: SelectionConfig,
    file_photsys: Mapping[str, str] | None = None,
) -> SelectionPlan:
    """Everything the scan of the sweep files needs, computed once on the driver.

    ``file_photsys`` gives the photometric system of files from a ``north`` or ``south``
    tree (:mod:`~.sweep_tree`); other rows get theirs from their position.
    """
    pos = positives.copy()
    pos["key"] = keyed_uniform(pos["object_id"], cfg.seed)
    pos = pos.sort_values("key", kind="stable").reset_index(drop=True)
    if cfg.limit is not None:
        pos = pos.head(cfg.limit).reset_index(drop=True)
    n_neg_max = round(cfg.negatives_per_positive * len(pos))
    n_hard_max = round(cfg.hard_confuser_fraction * n_neg_max)
    lc_ra = pd.to_numeric(lenscat["RA [deg]"], errors="coerce").to_numpy(np.float64)
    lc_dec = pd.to_numeric(lenscat["DEC [deg]"], errors="coerce").to_numpy(np.float64)
    lc_ok = np.isfinite(lc_ra) & np.isfinite(lc_dec)
    pos_ra, pos_dec = pos["ra"].to_numpy(), pos["dec"].to_numpy()
    ctx = SweepContext(
        cfg=cfg,
        positive_index=SkyIndex(pos_ra, pos_dec) if len(pos) else None,
        lenscat_index=SkyIndex(lc_ra[lc_ok], lc_dec[lc_ok]),
        normal_capacity=n_neg_max,
        hard_capacity=int(np.ceil(n_hard_max / len(HARD_CONFUSER_CATEGORIES))),
        file_photsys=dict(file_photsys or {}),
    )
    names = sorted(sweep_names)
    boxes = {n: sweep_box(n) for n in names}

    def holds_positive(name: str) -> bool:
        box = boxes[name]
        return box is None or bool(in_box(pos_ra, pos_dec, box).any())

    first = [n for n in names if holds_positive(n)]
    order = first + [n for n in names if n not in set(first)]
    return SelectionPlan(pos, ctx, order, len(first))


def merge_scans(
    plan: SelectionPlan, scan_of: Callable[[str], SweepScan], progress: Any = None
) -> SelectionResult:
    """Fold the files' scans in plan order, stopping as a single pass would under
    ``limit`` (after the files holding positives, once the reservoirs are full)."""
    merger = SelectionMerger(plan.pos, plan.ctx)
    files_read = 0
    stop = False
    for i, name in enumerate(plan.order):
        merger.add(scan_of(name))
        files_read += 1
        if progress is not None:
            progress.update(1)
        if plan.ctx.cfg.limit is not None and i + 1 >= plan.n_first and merger.full():
            stop = True
            break
    merger.counts["sweep_files_read"] = files_read
    merger.counts["sweep_files_total"] = len(plan.order)
    if stop:
        logger.info(
            "limit=%s: stopped after %d of %d sweep files",
            plan.ctx.cfg.limit,
            files_read,
            len(plan.order),
        )
    return merger.finish()


def select_objects(
    positives: pd.DataFrame,
    sweeps: Mapping[str, Callable[[], FITSTable]],
    lenscat: pd.DataFrame,
    cfg: SelectionConfig,
    file_photsys: Mapping[str, str] | None = None,
) -> SelectionResult:
    """Select positives and negatives in one streaming pass over the sweep files.

    Parameters
    ----------
    positives : pandas.DataFrame
        ``object_id``, ``ra``, ``dec`` (deg), ``tier``, ``origin`` of lens candidates.
    sweeps : Mapping
        Sweep file name to a loader of its :class:`FITSTable` (Kedro's partitions).
    lenscat : pandas.DataFrame
        The whole lenscat catalogue: negatives keep ``exclusion_radius_arcsec`` away from
        every entry, not only from the chosen positives.
    cfg : SelectionConfig
        Validated parameters.
    file_photsys : Mapping, optional
        Photometric system of sweep files from a ``north``/``south`` tree.

    Returns
    -------
    SelectionResult
        ``objects``: positives (photometry where matched) and sampled negatives;
        ``quarantine``: positives removed by cuts and duplicated sweep ids, with reasons;
        ``report``: counts per source, per cut, per tier and per stratum.
    """
    plan = plan_selection(positives, list(sweeps), lenscat, cfg, file_photsys)
    progress = tqdm(total=len(plan.order), desc="reading sweeps", unit="file")
    try:
        return merge_scans(
            plan, lambda name: scan_sweep_file(name, sweeps[name](), plan.ctx), progress
        )
    finally:
        progress.close()


def _close_matches(
    positive_index: SkyIndex,
    ra: np.ndarray,
    dec: np.ndarray,
    phot: pd.DataFrame,
    cfg: SelectionConfig,
) -> pd.DataFrame:
    """Sweep rows within the photometry radius of a positive, closest first."""
    idx, sep = positive_index.nearest(ra, dec)
    close = np.flatnonzero(sep <= cfg.photometry_match_radius_arcsec)
    close = close[np.argsort(sep[close], kind="stable")]
    out = phot.iloc[close].reset_index(drop=True)
    out["tractor_ra"], out["tractor_dec"] = ra[close], dec[close]
    out.insert(0, "_positive", idx[close].astype(np.int64))
    out["photometry_sep_arcsec"] = sep[close].astype(np.float64)
    return out


def _hard_quotas(n_pos: int, cfg: SelectionConfig) -> dict[str, int]:
    n_neg = round(cfg.negatives_per_positive * n_pos)
    n_hard = round(cfg.hard_confuser_fraction * n_neg)
    return _allocate(n_hard, dict.fromkeys(HARD_CONFUSER_CATEGORIES, 1.0))


def _positive_cut_failures(
    pos: pd.DataFrame, pos_phot: dict[int, dict[str, Any]], cfg: SelectionConfig
) -> dict[str, np.ndarray]:
    """Per cut, which positives fail it (``(len(pos),)`` bool); only positives with
    photometry can fail."""
    if not pos_phot:
        return {}
    keys = sorted(pos_phot)
    known = pd.DataFrame([pos_phot[k] for k in keys])
    fails = cfg.cuts.failures(known, pos["dec"].to_numpy()[keys])
    fails.pop("photsys", None)  # the north policy applies to every positive: _outside_photsys
    out = {}
    for cut, bad in fails.items():
        full = np.zeros(len(pos), dtype=bool)
        full[np.asarray(keys)[bad]] = True
        out[cut] = full
    return out


def _positive_photsys(pos: pd.DataFrame, pos_phot: dict[int, dict[str, Any]]) -> np.ndarray:
    """Each positive's photometric system: its sweep row's, else by position."""
    by_position = photsys_of_positions(pos["ra"].to_numpy(), pos["dec"].to_numpy())
    return np.array(
        [str(pos_phot.get(k, {}).get("photsys") or by_position[k]) for k in range(len(pos))],
        dtype=object,
    )


def _outside_photsys(
    pos: pd.DataFrame, pos_phot: dict[int, dict[str, Any]], cfg: SelectionConfig
) -> np.ndarray:
    """Positives whose imaging the north policy excludes (``(len(pos),)`` bool)."""
    return ~np.isin(_positive_photsys(pos, pos_phot), list(cfg.cuts.photsys))


def _removed_by_cuts(
    pos: pd.DataFrame, pos_phot: dict[int, dict[str, Any]], cfg: SelectionConfig
) -> np.ndarray:
    """Which positives are removed: outside the photometric systems kept (always), or by
    the cuts (when ``apply_cuts_to_positives``)."""
    removed = _outside_photsys(pos, pos_phot, cfg)
    fails = _positive_cut_failures(pos, pos_phot, cfg)
    if not cfg.apply_cuts_to_positives or not fails:
        return removed
    return removed | np.any(list(fails.values()), axis=0)


def _quotas(
    n_pos: int, pos_phot: dict[int, dict[str, Any]], cfg: SelectionConfig
) -> tuple[dict[str, int], int]:
    """Negatives per stratum: ``ratio x positives`` less the hard confusers, shared out in
    proportion to the positives' (nobs_z bin, TYPE) strata."""
    n_neg = round(cfg.negatives_per_positive * n_pos)
    n_hard = sum(_hard_quotas(n_pos, cfg).values())
    if pos_phot:
        known = pd.DataFrame([pos_phot[k] for k in sorted(pos_phot)])
        weights = Counter(strata(known, cfg.nobs_z_edges, cfg.by_photsys).tolist())
    else:
        weights = Counter()
    return _allocate(n_neg - n_hard, weights), n_hard


def _centre_positives(pos: pd.DataFrame, cfg: SelectionConfig) -> pd.DataFrame:
    """Positives centred where the negatives are: on their Tractor position when a sweep
    row matched (``centre_on: tractor``); the lenscat position and the offset are kept."""
    pos = pos.copy()
    pos["lenscat_ra"], pos["lenscat_dec"] = pos["ra"].to_numpy(), pos["dec"].to_numpy()
    tractor_ra = pos.get("tractor_ra", pd.Series(np.nan, index=pos.index)).to_numpy(float)
    tractor_dec = pos.get("tractor_dec", pd.Series(np.nan, index=pos.index)).to_numpy(float)
    move = cfg.centre_on_tractor & np.isfinite(tractor_ra) & np.isfinite(tractor_dec)
    pos.loc[move, "ra"], pos.loc[move, "dec"] = tractor_ra[move], tractor_dec[move]
    sep = pos.get("photometry_sep_arcsec", pd.Series(np.nan, index=pos.index)).to_numpy(float)
    pos["centre_offset_arcsec"] = np.where(move, sep, 0.0)
    pos["position_source"] = np.where(move, "tractor", "lenscat")
    return pos.drop(columns=["tractor_ra", "tractor_dec"], errors="ignore")


def _position_copies(
    normal: SmallestKeys, hard: SmallestKeys, cfg: SelectionConfig
) -> tuple[set[Any], list[dict[str, Any]]]:
    """Sampled candidates that are another copy of the same galaxy (the same position in
    two releases, or in the north and the south sweeps): the copy kept is DECam over
    north, then the newest release; the others are excluded and quarantined.

    Returns
    -------
    excluded : set
        ``uid`` of the copies left out.
    rows : list of dict
        Their quarantine rows.
    """
    held = pd.concat([normal.held(), hard.held()], ignore_index=True)
    if cfg.duplicate_radius_arcsec <= 0 or len(held) < 2:
        return set(), []
    held = held.drop_duplicates("uid").reset_index(drop=True)
    pairs = pairs_within(held["ra"].to_numpy(), held["dec"].to_numpy(), cfg.duplicate_radius_arcsec)
    if not len(pairs):
        return set(), []
    uid = held["uid"].to_numpy(np.int64)
    north = (held["photsys"].astype(str) == "N").to_numpy() if "photsys" in held else False
    rank = np.lexsort((held["key"].to_numpy(), -(uid >> 44), north))  # best first
    position = np.empty(len(held), dtype=np.int64)
    position[rank] = np.arange(len(held))
    excluded: set[Any] = set()
    rows = []
    for i, j in pairs:
        keep, drop = (i, j) if position[i] < position[j] else (j, i)
        if int(uid[drop]) in excluded:
            continue
        excluded.add(int(uid[drop]))
        kept_id = dr10_object_id_of_uid(uid[[keep]])[0]
        rows.append(
            {
                "object_id": dr10_object_id_of_uid(uid[[drop]])[0],
                "ra": held.at[drop, "ra"],
                "dec": held.at[drop, "dec"],
                "label": 0,
                "tier": "",
                "stage": "ingest:sweeps",
                "reason": f"same galaxy as {kept_id} (another release or photometric system)",
            }
        )
    return excluded, rows


def _finish(
    pos: pd.DataFrame,
    pos_phot: dict[int, dict[str, Any]],
    best_sep: np.ndarray,
    normal: SmallestKeys,
    hard: SmallestKeys,
    duplicates: list[dict[str, Any]],
    counts: Counter[str],
    cut_counts: Counter[str],
    cfg: SelectionConfig,
) -> SelectionResult:
    # positives: photometry where matched, then the same cuts as the negatives
    photsys = _positive_photsys(pos, pos_phot)
    north_out = _outside_photsys(pos, pos_phot, cfg)
    phot = pd.DataFrame([pos_phot.get(k, {}) for k in range(len(pos))], index=pos.index)
    pos = pd.concat([pos.drop(columns="photsys", errors="ignore"), phot], axis=1)
    pos["photsys"] = photsys
    pos["has_photometry"] = np.isfinite(best_sep)
    pos = _centre_positives(pos, cfg)
    fails = _positive_cut_failures(pos, pos_phot, cfg)
    pos_cut_counts = {cut: int(bad.sum()) for cut, bad in fails.items()}
    pos_cut_counts["photsys"] = int(north_out.sum())
    removed = _removed_by_cuts(pos, pos_phot, cfg)
    reasons = ["+".join(cut for cut, bad in fails.items() if bad[r]) for r in range(len(pos))]
    quarantine_rows = []
    for r in np.flatnonzero(removed):
        rec = pos.iloc[r]
        reason = (
            f"north: DR9 BASS/MzLS imaging (photometric system {photsys[r]}), excluded by "
            "ingest.north.policy"
            if north_out[r]
            else f"failed cuts: {reasons[r]}"
        )
        quarantine_rows.append(
            {
                "object_id": rec["object_id"],
                "ra": rec["ra"],
                "dec": rec["dec"],
                "label": 1,
                "tier": rec["tier"],
                "stage": "ingest:cuts",
                "reason": reason,
            }
        )
    kept_pos = pos[~removed].reset_index(drop=True)
    quotas, _ = _quotas(len(kept_pos), {k: pos_phot[k] for k in pos_phot if not removed[k]}, cfg)
    hard_quotas = _hard_quotas(len(kept_pos), cfg)

    picks, shortfall = [], {}
    taken, copies = _position_copies(normal, hard, cfg)
    for row in copies:
        quarantine_rows.append(row)
    for cat, n in hard_quotas.items():
        got = hard.take(cat, n, exclude=taken)
        shortfall[f"hard:{cat}"] = n - len(got)
        taken.update(got.get("uid", pd.Series(dtype=np.int64)))
        picks.append(got)
    for stratum, n in quotas.items():
        got = normal.take(stratum, n, exclude=taken)
        shortfall[stratum] = n - len(got)
        taken.update(got.get("uid", pd.Series(dtype=np.int64)))
        picks.append(got.assign(confuser_category=""))
    negatives = (
        pd.concat([p for p in picks if len(p)], ignore_index=True)
        if any(len(p) for p in picks)
        else pd.DataFrame({"uid": pd.Series(dtype=np.int64), "ra": [], "dec": []})
    )
    negatives.insert(0, "object_id", dr10_object_id_of_uid(negatives["uid"].to_numpy(np.int64)))
    negatives = negatives.drop(columns="uid")
    negatives["label"] = np.int8(0)
    negatives["tier"] = ""
    negatives["has_photometry"] = True
    negatives["centre_offset_arcsec"] = 0.0
    negatives["position_source"] = "tractor"
    kept_pos["confuser_category"] = ""
    objects = pd.concat([kept_pos, negatives], ignore_index=True)
    objects["label"] = objects["label"].astype(np.int8)
    objects = objects.drop(columns=["key"], errors="ignore")
    if "brickname" in objects:  # positives without photometry have no brick
        objects["brickname"] = objects["brickname"].fillna("").astype(str)

    for row in duplicates:
        quarantine_rows.append(
            {
                "object_id": dr10_object_id_of_uid(np.array([row["uid"]]))[0],
                "ra": row["ra"],
                "dec": row["dec"],
                "label": 0,
                "stage": "ingest:sweeps",
                "reason": "duplicate object_id in sweep catalogues",
            }
        )
    report = {
        "positives": {
            "candidates": int(len(pos)),
            "with_photometry": int(pos["has_photometry"].sum()),
            "removed_by_cut": dict(pos_cut_counts),
            "cuts_applied": cfg.apply_cuts_to_positives,
            "kept": int(len(kept_pos)),
            "per_tier": {t: int(n) for t, n in kept_pos["tier"].value_counts().items()},
        },
        "negatives": {
            **{k: int(v) for k, v in counts.items()},
            "removed_by_cut": dict(cut_counts),
            "duplicate_ids": len(duplicates),
            "position_copies": len(copies),
            "selected": int(len(negatives)),
            "per_stratum_target": quotas,
            "per_hard_category_target": hard_quotas,
            "shortfall": {k: int(v) for k, v in shortfall.items() if v > 0},
        },
        "limit": cfg.limit,
    }
    return SelectionResult(objects, pd.DataFrame(quarantine_rows), report)
