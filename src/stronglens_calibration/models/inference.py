"""Scoring with a trained lens finder: logits and penultimate-layer features, in the
order of the objects, with non-finite stamps reported rather than dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from stronglens_calibration.models.data import StampDataset
from stronglens_calibration.models.networks import LensFinder


def score_batch(
    model: LensFinder, x: np.ndarray, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n,)`` and features ``(n, k)`` of preprocessed stamps ``(n, 3, c, c)``."""
    if model.training:  # walking the modules costs more than a small batch's arithmetic
        model.eval()
    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
        features = model.features(t)
        logits = model.head(features).squeeze(1)
    return logits.float().cpu().numpy(), features.float().cpu().numpy()


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def score_stamps(
    model: LensFinder,
    n: int,
    preprocessed: Callable[[slice], np.ndarray],
    batch_size: int,
    device: torch.device,
    desc: str = "scoring",
) -> tuple[np.ndarray, np.ndarray]:
    """Score ``n`` stamps delivered batch by batch by ``preprocessed(slice)``.

    A stamp with a non-finite pixel after preprocessing gets a NaN logit and NaN
    features (it is not silently dropped: the caller sees which objects were not
    scored).

    Returns
    -------
    logits : numpy.ndarray
        float64 ``(n,)``.
    features : numpy.ndarray
        float32 ``(n, k)``.
    """
    if batch_size < 1:
        raise ValueError(f"'batch_size' must be >= 1, got {batch_size}")
    if next(model.parameters()).device != torch.device(device):
        model = model.to(device)
    logits = np.full(n, np.nan)
    features: np.ndarray | None = None
    for sl in tqdm(list(_batches(n, batch_size)), desc=desc, unit="batch", leave=False):
        x = preprocessed(sl)
        ok = np.isfinite(x).all(axis=(1, 2, 3))
        if not ok.any():
            continue
        z, f = score_batch(model, x[ok], device)
        if features is None:
            features = np.full((n, f.shape[1]), np.nan, dtype=np.float32)
        idx = np.arange(sl.start, sl.stop)[ok]
        logits[idx] = z
        features[idx] = f
    if features is None:
        features = np.full((n, model.encoder.n_features), np.nan, dtype=np.float32)
    return logits, features


def score_dataset(
    model: LensFinder, ds: StampDataset, batch_size: int, device: torch.device, desc: str
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`score_stamps` over every object of a :class:`StampDataset`, in its order."""
    return score_stamps(
        model,
        len(ds),
        lambda sl: np.stack([ds.stamp(i) for i in range(sl.start, sl.stop)]),
        batch_size,
        device,
        desc,
    )
