"""Matching negatives to positives: Cohen's d, histogram reweighting, subsampling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stronglens_calibration.catalogues.sampling import keyed_uniform


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
