"""Binomial intervals for recalls, completenesses and false-positive rates."""

from __future__ import annotations

import numpy as np
from scipy.stats import beta


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
