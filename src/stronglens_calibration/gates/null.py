"""The null of a data gate: what it measures when the classes do not differ at all.

Labels and weights are permuted together over the gate sample, so every pseudo-class
keeps the run's class sizes and weight distribution while any real difference between
lenses and non-lenses is destroyed. Each permutation is measured exactly as the real
labels were (same folds, same model, same bootstrap), so the null tells how large the
statistic gets from noise alone at this sample size, how often the point estimate would
fail, and how often the interval verdict would say ``fail`` or ``inconclusive``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from stronglens_calibration.gates.verdicts import (
    VERDICTS,
    interval_verdict,
    point_passes,
    separation,
)

logger = logging.getLogger(__name__)

#: ``(labels, weights, n_bootstrap, seed) -> (value, (ci_low, ci_high))``: a gate's
#: statistic and its 95 % interval for any labelling of the gate sample.
LabelMeasure = Callable[[np.ndarray, np.ndarray, int, int], tuple[float, tuple[float, float]]]


def permutation_null(
    measure: LabelMeasure,
    labels: np.ndarray,
    weights: np.ndarray,
    rule: str,
    threshold: Any,
    observed: float,
    n_permutations: int,
    n_bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """Measure a gate on ``n_permutations`` label-and-weight shuffles of its sample.

    Parameters
    ----------
    measure : LabelMeasure
        The gate's statistic for a labelling.
    labels, weights : numpy.ndarray
        ``(n,)`` the run's labels (0/1) and ``sample_weight``.
    rule, threshold
        The gate's threshold rule and threshold (:mod:`~.verdicts`).
    observed : float
        The value measured with the real labels.
    n_permutations, n_bootstrap, seed : int
        Shuffles, bootstrap resamples per shuffle (for the verdict rates), seed.

    Returns
    -------
    dict
        ``n_permutations``, ``n_bootstrap``, ``quantiles`` (2.5, 50, 97.5 % of the null
        values), ``p_value`` (permutation p of a separation at least as large as the
        observed one, ``(1 + k) / (1 + n)``), ``point_fail_rate`` (how often the point
        estimate alone fails under the null) and ``verdict_rates`` (fraction of shuffles
        per interval verdict).
    """
    labels = np.asarray(labels).astype(int)
    weights = np.asarray(weights, dtype=float)
    rng = np.random.default_rng((seed, 0x6E756C6C))
    values = np.full(n_permutations, np.nan)
    verdicts: list[str] = []
    for k in range(n_permutations):
        order = rng.permutation(labels.size)
        value, (lo, hi) = measure(labels[order], weights[order], n_bootstrap, seed + 1 + k)
        values[k] = value
        verdicts.append(interval_verdict(rule, lo, hi, threshold))
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"n_permutations": n_permutations, "p_value": float("nan"), "measured": False}
    observed_sep = separation(rule, observed, threshold)
    null_sep = np.array([separation(rule, v, threshold) for v in finite])
    q = np.percentile(finite, [2.5, 50.0, 97.5])
    return {
        "n_permutations": int(n_permutations),
        "n_bootstrap": int(n_bootstrap),
        "quantiles": {"2.5": float(q[0]), "50": float(q[1]), "97.5": float(q[2])},
        "p_value": float((1 + np.sum(null_sep >= observed_sep)) / (1 + finite.size)),
        "point_fail_rate": float(np.mean([not point_passes(rule, v, threshold) for v in finite])),
        "verdict_rates": {v: float(verdicts.count(v) / len(verdicts)) for v in VERDICTS},
        "measured": True,
    }
