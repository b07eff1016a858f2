"""Gate 1.7, the model gate: validation lenses with their arc light suppressed should look
to the trained network no more like lenses than equally suppressed non-lenses do.

The suppression (:mod:`~.arc_suppression`) replaces only light in excess of a model of
the lens galaxy in the arc annulus; it removes neighbours there too, which is why the
statistic is a difference: the mean probability of the suppressed validation lenses
minus the (weighted) mean probability of the suppressed validation non-lenses. A network
that finds arcs loses its lenses; one that learnt something else about lens stamps (a
mask artefact, a core, the host) keeps them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.gates.arc_suppression import suppress_arcs
from stronglens_calibration.gates.data_gates import GateConfig, gate_entry
from stronglens_calibration.gates.registry import GATE_1_7
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import bootstrap

logger = logging.getLogger(__name__)


def suppression_excess(
    score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lenses: np.ndarray,
    non_lenses: np.ndarray,
    non_lens_weights: np.ndarray,
    cfg: GateConfig,
) -> dict[str, Any]:
    """Gate 1.7's statistic for any scorer: the mean probability of the arc-suppressed
    lenses minus the weighted mean probability of the equally suppressed non-lenses.

    Parameters
    ----------
    score : callable
        ``score(stamps, index)`` gives the probability of each stamp, ``(m,)`` (NaN for
        one that cannot be scored); ``index`` are the rows of the stamps among their
        class (lenses first, then non-lenses; for the normalisation statistics).
    lenses, non_lenses : numpy.ndarray
        float32 ``(n, 3, H, W)`` stamps, nanomaggies per pixel.
    non_lens_weights : numpy.ndarray
        ``(n_non_lenses,)`` sample weights.
    cfg : GateConfig
        Annuli, suppression settings, seed, bootstrap size and the threshold.

    Returns
    -------
    dict
        The gate entry: ``value``, ``ci_low``, ``ci_high``, ``threshold``, ``verdict``,
        ``point_passes``, ``passed``, and ``lenses`` / ``non_lenses`` (``n``, ``mean_p_before``,
        ``mean_p_after``, ``replaced_fraction``: the median fraction of annulus pixels
        replaced), ``mean_abs_change_non_lenses`` (how much the suppression moved
        arc-free images) and the settings.
    """
    rng = np.random.default_rng(cfg.seed)
    measured: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, stamps in (("lenses", lenses), ("non_lenses", non_lenses)):
        index = np.arange(offset, offset + len(stamps))
        offset += len(stamps)
        suppressed, replaced = suppress_arcs(
            stamps, cfg.arc_annulus_px, cfg.noise_annulus_px, rng, cfg.arc_excess
        )
        measured[name] = {
            "before": np.asarray(score(stamps, index), dtype=float),
            "after": np.asarray(score(suppressed, index), dtype=float),
            "replaced": replaced,
        }
    lens, non = measured["lenses"], measured["non_lenses"]
    keep_l = np.isfinite(lens["before"]) & np.isfinite(lens["after"])
    keep_n = np.isfinite(non["before"]) & np.isfinite(non["after"])
    keep_n &= np.asarray(non_lens_weights) > 0
    n_dropped = int((~keep_l).sum() + (~keep_n).sum())
    if n_dropped:
        logger.warning("gate 1.7: %d validation stamps could not be scored", n_dropped)
    if not keep_l.any() or not keep_n.any():
        raise ValueError("gate 1.7 needs scored validation lenses and non-lenses")
    p = np.concatenate([lens["after"][keep_l], non["after"][keep_n]])
    y = np.concatenate([np.ones(keep_l.sum(), int), np.zeros(keep_n.sum(), int)])
    w = np.concatenate([np.ones(keep_l.sum()), np.asarray(non_lens_weights)[keep_n]])

    def excess(i: np.ndarray) -> float:
        pos, neg = i[y[i] == 1], i[y[i] == 0]
        if w[neg].sum() <= 0 or pos.size == 0:
            return float("nan")
        return float(p[pos].mean() - np.average(p[neg], weights=w[neg]))

    everyone = np.arange(y.size)
    value = excess(everyone)
    ci = bootstrap(excess, y, cfg.n_bootstrap, cfg.seed)
    wn = np.asarray(non_lens_weights)[keep_n]

    def summary(part: dict[str, Any], keep: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
        return {
            "n": int(keep.sum()),
            "mean_p_before": float(np.average(part["before"][keep], weights=weights)),
            "mean_p_after": float(np.average(part["after"][keep], weights=weights)),
            "replaced_fraction": float(np.median(part["replaced"][keep])),
        }

    return gate_entry(value, ci, GATE_1_7.name, cfg) | {
        "lenses": summary(lens, keep_l, np.ones(keep_l.sum())),
        "non_lenses": summary(non, keep_n, wn),
        "mean_abs_change_non_lenses": float(
            np.average(np.abs(non["after"][keep_n] - non["before"][keep_n]), weights=wn)
        ),
        "arc_annulus_px": list(cfg.arc_annulus_px),
        "suppression": cfg.arc_excess.model_dump(),
    }


def arc_suppression_gate(
    lens_finder: Mapping[str, Any],
    objects: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    cfg: GateConfig,
    batch_size: int,
    device: Any,
) -> dict[str, Any]:
    """Gate 1.7 on the usable validation objects (:func:`suppression_excess`), scored
    through the same preprocessing and batched inference as evaluation
    (:func:`~.models.inference.score_stamps`).

    Parameters
    ----------
    lens_finder : Mapping
        The trained artifact.
    objects : pandas.DataFrame
        ``objects_split``.
    stamps : Mapping
        The stamp store's shard loaders.
    cfg : GateConfig
        Annuli, suppression settings, seed, bootstrap size and the gate's threshold.
    batch_size : int
        Stamps scored at a time.
    device : torch.device
        Where to score.

    Returns
    -------
    dict
        The model-gate report: ``gate_1_7_arc_suppressed`` (:func:`suppression_excess`),
        ``n_positive``, ``n_negative``, ``split``, ``verdict``, ``passed``.
    """
    from stronglens_calibration.evaluation.calibration import probabilities
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.inference import score_stamps

    model, pre = from_artifact(lens_finder)
    usable = objects[objects["cutout_ok"] & (objects["split"] == "val")]
    lenses = usable[usable["label"] == 1]
    non_lenses = usable[(usable["label"] == 0) & (usable["sample_weight"] > 0)]
    if lenses.empty or non_lenses.empty:
        raise ValueError("gate 1.7 needs validation lenses and non-lenses; the val split lacks one")
    rows = pd.concat([lenses, non_lenses], ignore_index=True)
    median = rows[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
    mad = rows[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)

    def score(pixels: np.ndarray, index: np.ndarray) -> np.ndarray:
        logits, _ = score_stamps(
            model,
            len(pixels),
            lambda sl: pre(pixels[sl], median[index[sl]], mad[index[sl]]),
            batch_size,
            device,
            "gate 1.7",
        )
        return probabilities(logits)

    entry = suppression_excess(
        score,
        read_stamps(lenses.reset_index(drop=True), stamps),
        read_stamps(non_lenses.reset_index(drop=True), stamps),
        non_lenses["sample_weight"].to_numpy(float),
        cfg,
    )
    logger.info(
        "%s: lenses mean p %.3f -> %.3f, non-lenses %.3f -> %.3f; excess %.3f [%.3f, %.3f] "
        "threshold %s -> %s",
        GATE_1_7.name,
        entry["lenses"]["mean_p_before"],
        entry["lenses"]["mean_p_after"],
        entry["non_lenses"]["mean_p_before"],
        entry["non_lenses"]["mean_p_after"],
        entry["value"],
        entry["ci_low"],
        entry["ci_high"],
        entry["threshold"],
        entry["verdict"].upper(),
    )
    return {
        GATE_1_7.name: entry,
        "n_positive": entry["lenses"]["n"],
        "n_negative": entry["non_lenses"]["n"],
        "split": "val",
        "verdict": entry["verdict"],
        "passed": entry["passed"],
    }
