"""Thresholds and rates at operating points: FPR-matched thresholds, the Bologna
challenge's TPR0 and TPR10, precision at a survey prevalence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FprThreshold:
    """A threshold chosen on negatives so that at most ``allowed_fp`` of them pass.

    Attributes
    ----------
    target_fpr : float
        The requested false-positive rate.
    threshold : float
        Objects with a score strictly above it are selected.
    allowed_fp : int
        ``floor(target_fpr * n_negative)``.
    n_fp : int
        Negatives above the threshold (``<= allowed_fp``; fewer with ties).
    n_negative : int
        Negatives the threshold was derived from.
    resolved : bool
        Whether the sample can resolve the target (``target_fpr * n_negative >= 1``);
        when not, the threshold is the highest negative score and the achieved FPR is 0,
        whose 95 % upper bound is about ``3 / n_negative``, not the target.
    """

    target_fpr: float
    threshold: float
    allowed_fp: int
    n_fp: int
    n_negative: int
    resolved: bool

    @property
    def achieved_fpr(self) -> float:
        """False-positive rate on the negatives the threshold came from."""
        return self.n_fp / self.n_negative


def threshold_at_fpr(negative_scores: np.ndarray, target_fpr: float) -> FprThreshold:
    """The lowest threshold that lets at most ``target_fpr`` of the negatives through.

    Parameters
    ----------
    negative_scores : numpy.ndarray
        ``(n,)`` scores of negatives (any monotone score: logit or probability).
    target_fpr : float
        In (0, 1).

    Returns
    -------
    FprThreshold
    """
    s = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    if s.size == 0:
        raise ValueError("no negatives to derive an FPR-matched threshold from")
    if not 0 < target_fpr < 1:
        raise ValueError(f"a target false-positive rate must lie in (0, 1), got {target_fpr}")
    allowed = math.floor(target_fpr * s.size + 1e-9)
    threshold = float(s[allowed]) if allowed < s.size else float("-inf")
    n_fp = int((s > threshold).sum())
    return FprThreshold(target_fpr, threshold, allowed, n_fp, int(s.size), allowed >= 1)


def tpr_with_fewer_fp_than(
    positive_scores: np.ndarray, negative_scores: np.ndarray, max_fp: int
) -> float:
    """Highest true-positive rate with at most ``max_fp`` false positives.

    ``max_fp = 0`` is the Bologna lens-finding challenge's TPR0 (TPR before the first
    false positive); ``max_fp = 9`` its TPR10 (fewer than ten false positives).
    Metcalf et al. (2019), A&A 625, A119.
    """
    pos = np.asarray(positive_scores, dtype=np.float64)
    neg = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    if pos.size == 0:
        return float("nan")
    threshold = neg[max_fp] if max_fp < neg.size else -np.inf
    return float((pos > threshold).mean())


def precision_at_prevalence(tpr: float, fpr: float, prevalence: float) -> float:
    """Purity of a selection in a survey where a fraction ``prevalence`` are lenses.

    ``TPR pi / (TPR pi + FPR (1 - pi))``: the test sample's class balance is a design
    choice, the survey's is not, so precision on the test sample itself means little.
    """
    if not 0 < prevalence < 1:
        raise ValueError(f"'prevalence' must be in (0, 1), got {prevalence}")
    num = tpr * prevalence
    den = num + fpr * (1 - prevalence)
    return float(num / den) if den > 0 else float("nan")
