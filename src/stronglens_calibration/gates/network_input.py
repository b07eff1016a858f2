"""What the network sees of the core: the clipped plateau of the preprocessed input.

The network does not see fluxes. It sees ``(x - annulus median) / (1.4826 MAD)`` per band,
clipped at ``clip`` sky sigmas (:class:`~stronglens_calibration.models.preprocessing.
Preprocessing`). A bright galaxy core therefore reaches it as a flat plateau at the clip
level, and the core's brightness as the plateau's size: on the demo about seven pixels
in r. Two classes whose raw core fluxes agree can still differ there (in depth, which
moves the sigma, or in the light just outside the 3 x 3 core), and the raw-pixel gates
do not look. This module measures, per band, the size of the plateau around the centre
and the mean clipped level of the core.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import label

from stronglens_calibration import BANDS
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stats import weighted_median

#: Features per band, in column order.
KINDS: tuple[str, ...] = ("plateau_px", "core_level")

#: Four-connected neighbours within one image; images of a batch never touch.
_WITHIN_IMAGE = np.array(
    [
        [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
        [[0, 1, 0], [1, 1, 1], [0, 1, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
    ]
)


def central_plateau_size(clipped: np.ndarray, clip: float) -> np.ndarray:
    """Pixels of the four-connected region at the clip level that holds the centre pixel.

    Parameters
    ----------
    clipped : numpy.ndarray
        ``(m, h, w)`` preprocessed images (sky sigmas, clipped at ``clip``).
    clip : float
        The clip level, in sky sigmas.

    Returns
    -------
    numpy.ndarray
        int64 ``(m,)``: the plateau's size in pixels, 0 where the centre pixel is below
        the clip level.
    """
    at_clip = clipped >= np.float32(clip)
    labels, _ = label(at_clip, structure=_WITHIN_IMAGE)
    h, w = clipped.shape[-2:]
    centre = labels[:, h // 2, w // 2]
    sizes = np.bincount(labels.ravel())
    return np.where(centre > 0, sizes[centre], 0).astype(np.int64)


def clipped_core_features(
    crops: np.ndarray,
    median: np.ndarray,
    mad: np.ndarray,
    clip: float,
    core_radius_px: float,
    chunk: int = 256,
) -> tuple[np.ndarray, list[str]]:
    """Plateau size and mean core level per band of the network's preprocessed input.

    Parameters
    ----------
    crops : numpy.ndarray
        ``(n, 3, c, c)`` central crops (g, r, z; nanomaggies per pixel).
    median, mad : numpy.ndarray
        ``(n, 3)`` annulus median and (raw) MAD per band, nanomaggies per pixel: the
        numbers the network's preprocessing normalises with.
    clip : float
        The network's clip level in sky sigmas (``train.preprocessing.clip``).
    core_radius_px : float
        Core: ``r < core_radius_px``.
    chunk : int
        Objects per pass (bounds the memory).

    Returns
    -------
    features : numpy.ndarray
        float64 ``(n, 2 * 3)``: per band the plateau size (pixels, see
        :func:`central_plateau_size`) and the mean preprocessed level of the core pixels
        (sky sigmas, at most ``clip``).
    names : list of str
        ``<kind>_<band>`` for each column.
    """
    if crops.ndim != 4 or crops.shape[1] != len(BANDS):
        raise ValueError(f"crops must be (n, {len(BANDS)}, c, c), got {crops.shape}")
    n, nb, size = len(crops), crops.shape[1], crops.shape[-1]
    core = radius_map(size) < core_radius_px
    if not core.any():
        raise ValueError(f"core radius {core_radius_px} px holds no pixel")
    preprocess = Preprocessing(clip=clip, crop=size)
    names = [f"{k}_{b}" for k in KINDS for b in BANDS]
    out = np.zeros((n, len(names)))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        x = preprocess(crops[start:stop], median[start:stop], mad[start:stop])
        x = np.nan_to_num(x, nan=0.0)  # a masked pixel is no plateau (the artefact gate counts it)
        plateau = central_plateau_size(x.reshape(-1, size, size), clip).reshape(-1, nb)
        out[start:stop, :nb] = plateau
        out[start:stop, nb:] = x[:, :, core].mean(axis=2)
    return out, names


def class_medians(
    features: np.ndarray, names: list[str], labels: np.ndarray, weights: np.ndarray
) -> dict[str, dict[str, float]]:
    """Per feature, the weighted median of the lenses and of the non-lenses (the weights
    the gate compares the classes with), for the report."""
    pos, neg = labels == 1, labels == 0
    return {
        name: {
            "lenses": weighted_median(features[pos, j], weights[pos]),
            "non_lenses": weighted_median(features[neg, j], weights[neg]),
        }
        for j, name in enumerate(names)
    }
