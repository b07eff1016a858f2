"""Gate 1.7, the model gate: validation lenses with their arcs suppressed should no longer
look like lenses to the trained network."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.gates.arc_suppression import suppress_arcs
from stronglens_calibration.gates.data_gates import GateConfig
from stronglens_calibration.gates.registry import GATE_1_7
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import bootstrap

logger = logging.getLogger(__name__)


def arc_suppression_gate(
    lens_finder: Mapping[str, Any],
    objects: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    cfg: GateConfig,
    batch_size: int,
    device: Any,
) -> dict[str, Any]:
    """Gate 1.7 on the usable validation lenses.

    Each lens is scored as stored and with the arc annulus replaced
    (:func:`~.arc_suppression.suppress_arcs`), through the same preprocessing and
    batched inference as evaluation (:func:`~.models.inference.score_stamps`).

    Parameters
    ----------
    lens_finder : Mapping
        The trained artifact.
    objects : pandas.DataFrame
        ``objects_split``.
    stamps : Mapping
        The stamp store's shard loaders.
    cfg : GateConfig
        Annuli, seed, bootstrap size and the gate's threshold.
    batch_size : int
        Stamps scored at a time.
    device : torch.device
        Where to score.

    Returns
    -------
    dict
        The model-gate report: ``gate_1_7_arc_suppressed`` (``value``: mean probability
        after suppression, ``ci_low``, ``ci_high``, ``threshold``, ``passed``,
        ``mean_p_before``, ``arc_annulus_px``), ``n_positive``, ``split``, ``passed``.
    """
    from stronglens_calibration.evaluation.calibration import probabilities
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.inference import score_stamps

    model, pre = from_artifact(lens_finder)
    rows = objects[
        objects["cutout_ok"] & (objects["split"] == "val") & (objects["label"] == 1)
    ].reset_index(drop=True)
    if rows.empty:
        raise ValueError("gate 1.7 needs validation lenses; the val split has none")
    raw = read_stamps(rows, stamps)
    median = rows[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
    mad = rows[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)
    rng = np.random.default_rng(cfg.seed)
    suppressed = suppress_arcs(raw, cfg.arc_annulus_px, cfg.noise_annulus_px, rng)

    def mean_probability(pixels: np.ndarray, desc: str) -> np.ndarray:
        logits, _ = score_stamps(
            model,
            len(pixels),
            lambda sl: pre(pixels[sl], median[sl], mad[sl]),
            batch_size,
            device,
            desc,
        )
        return probabilities(logits)

    before = mean_probability(raw, "gate 1.7: as stored")
    after = mean_probability(suppressed, "gate 1.7: arcs suppressed")
    scored = np.isfinite(after) & np.isfinite(before)
    if not scored.all():
        logger.warning("gate 1.7: %d validation lenses could not be scored", (~scored).sum())
    before, after = before[scored], after[scored]
    value = float(after.mean())
    ci = bootstrap(
        lambda i: float(after[i].mean()), np.ones(len(after), dtype=int), cfg.n_bootstrap, cfg.seed
    )
    threshold = cfg.thresholds[GATE_1_7.name]
    verdict = GATE_1_7.verdict(ci[0], ci[1], threshold)
    passed = verdict == "pass"
    logger.info(
        "%s: mean p %.3f -> %.3f [%.3f, %.3f] threshold %s -> %s",
        GATE_1_7.name,
        before.mean(),
        value,
        ci[0],
        ci[1],
        threshold,
        verdict.upper(),
    )
    return {
        GATE_1_7.name: {
            "value": value,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "threshold": threshold,
            "verdict": verdict,
            "point_passes": GATE_1_7.passes(value, threshold),
            "passed": passed,
            "mean_p_before": float(before.mean()),
            "arc_annulus_px": list(cfg.arc_annulus_px),
        },
        "n_positive": int(len(after)),
        "split": "val",
        "verdict": verdict,
        "passed": passed,
    }
