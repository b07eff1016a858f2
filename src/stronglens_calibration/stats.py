"""Generic statistics used by the gates, the split and the evaluation: bootstrap
intervals, (weighted) ROC AUC, Cohen's d, binomial proportions with Jeffreys intervals.
Kedro-free; every function takes plain arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import beta
from sklearn.metrics import roc_auc_score


def bootstrap_samples(
    statistic: Callable[[np.ndarray], float | np.ndarray],
    labels: np.ndarray,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """``statistic(index)`` over ``n_boot`` class-stratified resamples.

    ``labels`` are the strata: the classes (0, 1), or any integer codes (e.g. class and
    sky region together), each resampled with replacement to its own size.
    ``statistic`` takes an index array into the sample and returns a float or a
    ``(k,)`` array; the result is ``(n_boot,)`` or ``(n_boot, k)`` (NaN kept).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels).astype(int)
    groups = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    values = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, g.size, replace=True) for g in groups])
        values.append(statistic(idx))
    return np.asarray(values, dtype=float)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` percentile interval of resampled values ``(n,)`` (NaN dropped;
    NaN, NaN when none is finite)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(values, [tail, 100.0 - tail])
    return float(lo), float(hi)


def bootstrap(
    statistic: Callable[[np.ndarray], float], labels: np.ndarray, n_boot: int, seed: int
) -> tuple[float, float]:
    """95 % percentile interval of ``statistic(index)`` over class-stratified resamples.

    ``statistic`` takes an index array into the sample and returns a float.
    """
    return percentile_interval(bootstrap_samples(statistic, labels, n_boot, seed))


class BootstrapAUC:
    """Weighted ROC AUC of fixed scores under many resamplings, in O(n) each.

    The scores are sorted once; a resample only changes the weights (multiplicities), so
    the Mann-Whitney sum is re-accumulated over the sorted tie groups. Ties count half.
    """

    def __init__(self, labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> None:
        order = np.argsort(scores, kind="stable")
        s = np.asarray(scores)[order]
        self._order = order
        self._group = np.concatenate([[0], np.cumsum(np.diff(s) != 0)]).astype(np.int64)
        self._n_groups = int(self._group[-1]) + 1 if len(s) else 0
        self._pos = np.asarray(labels)[order] == 1
        self._w = np.asarray(weights, dtype=np.float64)[order]

    def __call__(self, multiplicity: np.ndarray | None = None) -> float:
        """AUC with each object's weight times ``multiplicity`` (in the input order)."""
        w = self._w if multiplicity is None else self._w * multiplicity[self._order]
        wp = np.bincount(self._group, weights=w * self._pos, minlength=self._n_groups)
        wn = np.bincount(self._group, weights=w * ~self._pos, minlength=self._n_groups)
        total_p, total_n = wp.sum(), wn.sum()
        if total_p <= 0 or total_n <= 0:
            return float("nan")
        below = np.cumsum(wn) - wn
        return float((wp * (below + 0.5 * wn)).sum() / (total_p * total_n))


def bootstrap_auc(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, n_boot: int, seed: int
) -> tuple[float, float]:
    """95 % interval of the weighted AUC over class-stratified resamples (a resample is a
    set of multiplicities, so the scores are sorted once)."""
    auc = BootstrapAUC(labels, scores, weights)
    n = len(labels)
    return bootstrap(
        lambda idx: auc(np.bincount(idx, minlength=n).astype(np.float64)), labels, n_boot, seed
    )


def weighted_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """ROC AUC with sample weights (NaN when a class is absent)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores, sample_weight=weights))


def weighted_mean_ratio(values: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of positives over weighted mean of negatives."""
    pos, neg = labels == 1, labels == 0
    if weights[neg].sum() <= 0 or weights[pos].sum() <= 0:
        return float("nan")
    mean_neg = np.average(values[neg], weights=weights[neg])
    return float(np.average(values[pos], weights=weights[pos]) / mean_neg)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The smallest value at which the cumulative weight reaches half the total (NaN for
    no positive weight)."""
    v, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    keep = (w > 0) & np.isfinite(v)
    if not keep.any():
        return float("nan")
    order = np.argsort(v[keep], kind="stable")
    cumulative = np.cumsum(w[keep][order])
    return float(v[keep][order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def cohens_d(
    x: np.ndarray, y: np.ndarray, wx: np.ndarray | None = None, wy: np.ndarray | None = None
) -> float:
    """Weighted Cohen's d of ``x`` against ``y``: mean difference over the pooled sd.

    Non-finite values are ignored. NaN when either sample is empty or both have zero
    spread.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    wx = np.ones_like(x) if wx is None else np.asarray(wx, float)
    wy = np.ones_like(y) if wy is None else np.asarray(wy, float)
    kx, ky = np.isfinite(x) & (wx > 0), np.isfinite(y) & (wy > 0)
    x, wx, y, wy = x[kx], wx[kx], y[ky], wy[ky]
    if x.size < 2 or y.size < 2:
        return float("nan")
    mx, my = np.average(x, weights=wx), np.average(y, weights=wy)
    vx = np.average((x - mx) ** 2, weights=wx)
    vy = np.average((y - my) ** 2, weights=wy)
    pooled = np.sqrt(0.5 * (vx + vy))
    return float((mx - my) / pooled) if pooled > 0 else float("nan")


def jeffreys_interval(
    successes: np.ndarray | int, trials: np.ndarray | int, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval of a binomial proportion (Brown, Cai & DasGupta 2001).

    The equal-tailed interval of the Beta(k + 1/2, n - k + 1/2) posterior, with the
    lower end set to 0 when ``k == 0`` and the upper end to 1 when ``k == n``. Good
    coverage down to a handful of trials, unlike the Wald interval.

    Parameters
    ----------
    successes, trials : int or numpy.ndarray
        Counts ``k`` and ``n`` (broadcast together), ``0 <= k <= n``.
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray
        float64, NaN where ``n == 0``.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if not 0 < level < 1:
        raise ValueError(f"'level' must be in (0, 1), got {level}")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("'successes' must lie in [0, trials]")
    alpha = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, beta.ppf(alpha / 2, k + 0.5, n - k + 0.5), 0.0)
        high = np.where(k < n, beta.ppf(1 - alpha / 2, k + 0.5, n - k + 0.5), 1.0)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def proportion(successes: int, trials: int, level: float = 0.95) -> dict[str, float | int]:
    """A proportion with its Jeffreys interval and counts, for reports.

    Returns
    -------
    dict
        ``value``, ``ci_low``, ``ci_high``, ``k``, ``n`` (``value`` NaN when ``n == 0``).
    """
    low, high = jeffreys_interval(successes, trials, level)
    return {
        "value": float(successes / trials) if trials else float("nan"),
        "ci_low": float(low),
        "ci_high": float(high),
        "k": int(successes),
        "n": int(trials),
    }
