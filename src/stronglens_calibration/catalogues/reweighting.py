"""Matching negatives to positives: histogram reweighting (raking) and subsampling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.sampling import keyed_uniform


def _marginal_codes(
    values: pd.DataFrame, reference: pd.DataFrame, n_bins: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per variable, the quantile bin (of the reference, the positives) of every row."""
    codes_v, codes_r = [], []
    for col in reference.columns:
        ref = reference[col].to_numpy(float)
        edges = np.unique(np.nanquantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1]))
        codes_v.append(np.searchsorted(edges, values[col].to_numpy(float)))
        codes_r.append(np.searchsorted(edges, ref))
    return codes_v, codes_r


def histogram_weights(
    positives: pd.DataFrame, negatives: pd.DataFrame, n_bins: int, n_iter: int = 100
) -> np.ndarray:
    """Weights for negatives so that each variable's histogram matches the positives'.

    Iterative proportional fitting (raking) over per-variable quantile bins of the
    positives (``n_bins`` each): every pass rescales the weights so that one variable's
    weighted histogram of negatives equals the positives'. Unlike a joint grid it stays
    well populated with several variables. Weights are scaled to a mean of 1.

    Returns
    -------
    numpy.ndarray
        float64 ``(len(negatives),)``; 0 for negatives with a non-finite variable.
    """
    if not len(positives) or not len(negatives) or positives.shape[1] == 0:
        return np.ones(len(negatives))
    finite = np.isfinite(negatives.to_numpy(float)).all(axis=1)
    neg_codes, pos_codes = _marginal_codes(negatives, positives, n_bins)
    w = finite.astype(np.float64)
    for _ in range(n_iter):
        for cn, cp in zip(neg_codes, pos_codes, strict=True):
            nb = int(max(cn.max(initial=0), cp.max(initial=0))) + 1
            target = np.bincount(cp, minlength=nb) / len(cp)
            have = np.bincount(cn, weights=w, minlength=nb)
            have = have / have.sum() if have.sum() > 0 else have
            factor = np.divide(target, have, out=np.zeros(nb), where=have > 0)
            w = w * factor[cn]
    return w / w.mean() if w.sum() > 0 else w


def subsample_mask(
    positives: pd.DataFrame, negatives: pd.DataFrame, ids: pd.Series, n_bins: int, seed: int
) -> np.ndarray:
    """Negatives kept so that each variable's histogram follows the positives'.

    Keeps a negative when its keyed hash is below ``w / max(w)``, where ``w`` is its
    :func:`histogram_weights` weight: rejection sampling, unbiased, at the cost of the
    negatives that the largest weight makes redundant.
    """
    w = histogram_weights(positives, negatives, n_bins)
    if not len(negatives) or not (w > 0).any():
        return np.ones(len(negatives), dtype=bool)
    return keyed_uniform(ids.astype(str), seed) < w / w.max()
