"""Are the injections like real lenses? Central-aperture brightness and a linear probe
on the model's own features (an earlier project's injections were 9x too bright;
docs/lessons.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from stronglens_calibration import BANDS
from stronglens_calibration.gates.arc_suppression import ExcessLight, excess_light_mask
from stronglens_calibration.gates.statistics import out_of_fold_scores
from stronglens_calibration.stamps.geometry import annulus_mask, core_mask
from stronglens_calibration.stamps.statistics import nanmedian_rows
from stronglens_calibration.stats import bootstrap, bootstrap_auc

#: Inverse L2 strengths the realism probe chooses among, in each training part.
PROBE_STRENGTHS: tuple[float, ...] = tuple(float(c) for c in np.logspace(-3, 1, 9))


def _band_index(stamps: np.ndarray, band: str) -> int:
    """Index of ``band`` in ``(n, 3, H, H)`` stamps, or a ValueError naming what is wrong."""
    if stamps.ndim != 4 or stamps.shape[1] != len(BANDS):
        raise ValueError(f"'stamps' must be (n, 3, H, H), got {stamps.shape}")
    if band not in BANDS:
        raise ValueError(f"'band' must be one of {BANDS}, got {band!r}")
    return BANDS.index(band)


def aperture_flux(
    stamps: np.ndarray, radius_px: float, sky_annulus_px: tuple[float, float], band: str = "r"
) -> np.ndarray:
    """Sky-subtracted flux in a central circular aperture.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, H)``, g, r, z, nanomaggies per pixel.
    radius_px : float
        Aperture radius in pixels (about the centre pixel).
    sky_annulus_px : tuple of float
        Ring whose median is the sky level per pixel.
    band : str
        Which band.

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)`` in nanomaggies; NaN when the aperture holds a non-finite pixel.
    """
    size = stamps.shape[2]
    x = stamps[:, _band_index(stamps, band)].reshape(len(stamps), -1)
    aperture = core_mask(size, radius_px).ravel()
    sky = nanmedian_rows(np.ascontiguousarray(x[:, annulus_mask(size, *sky_annulus_px).ravel()]))
    return x[:, aperture].sum(axis=1, dtype=np.float64) - sky.astype(np.float64) * aperture.sum()


def arc_flux(
    stamps: np.ndarray,
    inner_px: float,
    radius_px: float,
    sky_annulus_px: tuple[float, float],
    excess: ExcessLight,
    band: str = "r",
) -> np.ndarray:
    """Host-subtracted arc flux: the light in excess of a model of the lens galaxy
    (:func:`~.gates.arc_suppression.excess_light_mask`) in the ring
    ``inner_px <= r < radius_px``.

    The same estimator for injections and real lenses, so that their ratio compares
    arcs, not the hosts they were put into (a central-aperture flux is mostly host).
    Arc light too faint to be flagged counts as none, in both samples alike.

    Parameters
    ----------
    stamps : numpy.ndarray
        float32 ``(n, 3, H, H)``, g, r, z, nanomaggies per pixel.
    inner_px, radius_px : float
        The ring (pixels): the core, which the lens-light model does not cover, is left
        out.
    sky_annulus_px : tuple of float
        Sky ring (pixels) of the noise level.
    excess : ExcessLight
        How excess light is found.
    band : str
        Which band.

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)`` in nanomaggies; NaN when the ring holds a non-finite pixel.
    """
    b = _band_index(stamps, band)
    mask, model, _ = excess_light_mask(stamps, (inner_px, radius_px), sky_annulus_px, excess)
    residual = (np.asarray(stamps[:, b], dtype=np.float64) - model[:, b]) * mask
    ring = annulus_mask(stamps.shape[2], inner_px, radius_px)
    flux = residual[:, ring].sum(axis=1)
    return np.where(np.isfinite(np.asarray(stamps[:, b])[:, ring]).all(axis=1), flux, np.nan)


def median_ratio(
    numerator: np.ndarray, denominator: np.ndarray, n_boot: int, seed: int
) -> dict[str, float | int]:
    """Ratio of medians with a bootstrap 95 % interval (the two samples resampled apart).

    Returns
    -------
    dict
        ``value``, ``ci_low``, ``ci_high``, ``median_numerator``, ``median_denominator``,
        ``n_numerator``, ``n_denominator``.
    """
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        raise ValueError(
            f"a brightness ratio needs both samples; got {a.size} injections and "
            f"{b.size} real positives with a finite aperture flux"
        )
    values = np.concatenate([a, b])
    labels = np.concatenate([np.ones(a.size, int), np.zeros(b.size, int)])

    def ratio(idx: np.ndarray) -> float:
        va, vb = values[idx][labels[idx] == 1], values[idx][labels[idx] == 0]
        den = np.median(vb)
        return float(np.median(va) / den) if den > 0 else float("nan")

    lo, hi = bootstrap(ratio, labels, n_boot, seed)
    med_a, med_b = float(np.median(a)), float(np.median(b))
    return {
        "value": med_a / med_b if med_b > 0 else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
        "median_numerator": med_a,
        "median_denominator": med_b,
        "n_numerator": int(a.size),
        "n_denominator": int(b.size),
    }


def linear_probe(
    real_features: np.ndarray,
    injected_features: np.ndarray,
    folds: int,
    seed: int,
    n_boot: int,
    injected_hosts: np.ndarray | None = None,
) -> dict[str, float | int]:
    """Cross-validated logistic regression separating real positives from injections.

    Each object is scored by a model fitted on the other folds (features Gaussianised
    and standardised on the training folds; :func:`~.gates.statistics.out_of_fold_scores`).
    The L2 strength is chosen from :data:`PROBE_STRENGTHS` inside each training part
    (nested cross validation): the network's features are many (128 for the default
    network) against a few hundred objects, and a fixed weak regularisation fits their
    noise, which pulls the probe's AUC towards 0.5, that is towards "injections look
    real".
    With ``injected_hosts`` (the host of each injection), all injections into one host
    fall in one fold: a host seen in training would otherwise let the probe recognise
    its other injections by the host, not by the arcs.
    An AUC near 0.5 means the model's penultimate layer sees injections as it sees real
    lenses; near 1, the selection function measured with these injections does not
    describe real lenses.

    Returns
    -------
    dict
        ``auc``, ``ci_low``, ``ci_high``, ``n_real``, ``n_injected``, ``folds``,
        ``grouped_by_host`` and ``strengths`` (the inverse L2 strength of each fold).
    """
    real = np.asarray(real_features, dtype=np.float64)
    inj = np.asarray(injected_features, dtype=np.float64)
    x = np.concatenate([real, inj])
    y = np.concatenate([np.zeros(len(real), int), np.ones(len(inj), int)])
    w = np.where(y == 1, len(real) / max(len(inj), 1), 1.0)  # balance the classes in the fit
    groups = None
    if injected_hosts is not None:
        hosts = pd.factorize(np.asarray(injected_hosts))[0]
        groups = np.concatenate([-1 - np.arange(len(real)), hosts])  # each real lens alone
    strengths: list[float] = []
    scores = out_of_fold_scores(
        x, y, w, folds, seed, c=PROBE_STRENGTHS, groups=groups, chosen=strengths
    )
    lo, hi = bootstrap_auc(y, scores, np.ones(len(y)), n_boot, seed)
    return {
        "auc": float(roc_auc_score(y, scores)),
        "ci_low": lo,
        "ci_high": hi,
        "n_real": int(len(real)),
        "n_injected": int(len(inj)),
        "folds": int(folds),
        "grouped_by_host": injected_hosts is not None,
        "strengths": strengths,
    }
