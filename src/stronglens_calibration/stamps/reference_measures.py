"""The quantities by which mock stamps are compared with real DR10 cutouts.

Definitions as the reference table states them (``stronglens_calibration.reference``):
pixel radius from the centre pixel ``(H // 2, W // 2)``; sky = radius > 40 px (scaled
with the stamp for other sizes); every flux sky-median subtracted. They apply to any
g, r, z stamp, mock or real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.stamps.statistics import MAD_TO_SIGMA

#: Sky radius of a 101-pixel stamp (pixels); other sizes scale it.
SKY_RADIUS_101_PX = 40.0
#: Detection of neighbours: smoothing (px), threshold (sigma), smallest region (px).
SMOOTHING_PX = 1.0
DETECTION_SIGMA = 5.0
MIN_REGION_PX = 5


def _mad_sigma(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(values - np.median(values))))


def _colour(blue: float, red: float) -> float:
    if not (blue > 0 and red > 0):
        return float("nan")
    return float(-2.5 * np.log10(blue / red))


def neighbour_count(band: np.ndarray, sky: np.ndarray) -> int:
    """Sources besides the central one: connected regions of at least ``MIN_REGION_PX``
    pixels at ``DETECTION_SIGMA`` sigma or more after a ``SMOOTHING_PX`` Gaussian
    smoothing, sigma being the smoothed sky's MAD sigma; the region holding the centre
    pixel is the central galaxy and is not counted.

    Parameters
    ----------
    band : numpy.ndarray
        float ``(H, W)``, sky-median subtracted, nanomaggies per pixel.
    sky : numpy.ndarray
        bool ``(H, W)``, the sky pixels.
    """
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(np.nan_to_num(band, nan=0.0), SMOOTHING_PX)
    sigma = _mad_sigma(smooth[sky])
    if not sigma > 0:
        return 0
    labels, n = ndimage.label(smooth >= DETECTION_SIGMA * sigma)
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    big = np.flatnonzero(sizes >= MIN_REGION_PX)
    big = big[big > 0]
    centre = labels[band.shape[0] // 2, band.shape[1] // 2]
    return int(np.count_nonzero(big != centre))


def binning_ratio(band: np.ndarray, sky: np.ndarray) -> float:
    """``1.4826 MAD`` of the 2 x 2-binned (averaged) sky over ``sigma / 2``, sigma being the
    unbinned sky's MAD sigma: 1 for white noise, larger when neighbouring pixels are
    correlated as resampling onto the coadd grid correlates them."""
    h, w = (band.shape[0] // 2) * 2, (band.shape[1] // 2) * 2
    binned = band[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    sky_binned = sky[:h, :w].reshape(h // 2, 2, w // 2, 2).all(axis=(1, 3))
    sigma = _mad_sigma(band[sky])
    if not sigma > 0:
        return float("nan")
    return _mad_sigma(binned[sky_binned]) / (sigma / 2)


def measure_stamp(stamp: np.ndarray) -> dict[str, float]:
    """The reference quantities of one stamp.

    Parameters
    ----------
    stamp : numpy.ndarray
        float ``(3, H, W)``, g, r, z, nanomaggies per pixel.

    Returns
    -------
    dict
        ``core_3x3_flux_r``, ``central_flux_r``, ``flux_within_20px_r`` (nanomaggies),
        ``central_g_minus_r``, ``central_r_minus_z`` (mag), ``neighbours_r`` (count),
        ``sky_sigma_<b>`` (nanomaggies per pixel), ``noise_binning_ratio_r``.
    """
    if stamp.ndim != 3 or stamp.shape[0] != len(BANDS):
        raise ValueError(f"'stamp' must be (3, H, W), got {stamp.shape}")
    _, h, w = stamp.shape
    radius = radius_map(h)
    sky = radius > SKY_RADIUS_101_PX * h / 101
    out: dict[str, float] = {}
    sub = np.empty(stamp.shape, dtype=np.float64)
    for i, b in enumerate(BANDS):
        values = stamp[i].astype(np.float64)
        sky_values = values[sky & np.isfinite(values)]
        sub[i] = values - (np.median(sky_values) if sky_values.size else np.nan)
        out[f"sky_sigma_{b}"] = _mad_sigma(values[sky])
    central = radius < 5
    flux5 = [float(np.nansum(sub[i][central])) for i in range(len(BANDS))]
    cy, cx = h // 2, w // 2
    r = BANDS.index("r")
    out["core_3x3_flux_r"] = float(np.nansum(sub[r, cy - 1 : cy + 2, cx - 1 : cx + 2]))
    out["central_flux_r"] = flux5[r]
    out["flux_within_20px_r"] = float(np.nansum(sub[r][radius < 20]))
    out["central_g_minus_r"] = _colour(flux5[BANDS.index("g")], flux5[r])
    out["central_r_minus_z"] = _colour(flux5[r], flux5[BANDS.index("z")])
    out["neighbours_r"] = float(neighbour_count(sub[r], sky))
    out["noise_binning_ratio_r"] = binning_ratio(sub[r], sky)
    return out


def measure_stamps(stamps: np.ndarray) -> pd.DataFrame:
    """:func:`measure_stamp` of each stamp of ``(n, 3, H, W)``: one row per stamp."""
    return pd.DataFrame([measure_stamp(s) for s in stamps])


#: Reference table rows (quantity, band) -> the column of :func:`measure_stamp`.
MEASURED_COLUMN: dict[tuple[str, str], str] = {
    ("core_3x3_flux", "r"): "core_3x3_flux_r",
    ("central_flux", "r"): "central_flux_r",
    ("flux_within_20px", "r"): "flux_within_20px_r",
    ("central_g_minus_r", ""): "central_g_minus_r",
    ("central_r_minus_z", ""): "central_r_minus_z",
    ("neighbours", "r"): "neighbours_r",
    ("sky_sigma", "g"): "sky_sigma_g",
    ("sky_sigma", "r"): "sky_sigma_r",
    ("sky_sigma", "z"): "sky_sigma_z",
    ("noise_binning_ratio", "r"): "noise_binning_ratio_r",
}


def compare_with_reference(measured: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The mock's percentiles beside the real figures, row by row of ``reference``.

    Parameters
    ----------
    measured : pandas.DataFrame
        :func:`measure_stamps` of the mock's stamps.
    reference : pandas.DataFrame
        :func:`~stronglens_calibration.reference.lens_candidate_reference`.

    Returns
    -------
    pandas.DataFrame
        The reference columns plus ``mock_p5, mock_p50, mock_p95``, ``n_mock`` and
        ``median_inside``: the mock's median within ``[real_low, real_high]`` (for sky
        sigma, where only the real median is known: within 20 % of it); NaN-free
        quantities only.
    """
    rows = []
    for ref in reference.to_dict("records"):
        column = MEASURED_COLUMN[(str(ref["quantity"]), str(ref["band"] or ""))]
        values = measured[column].to_numpy(float)
        values = values[np.isfinite(values)]
        p5, p50, p95 = np.percentile(values, [5, 50, 95]) if values.size else (np.nan,) * 3
        low, high = ref["real_low"], ref["real_high"]
        if ref["quantity"] == "sky_sigma":  # the project's tolerance on the noise level
            low, high = 0.8 * ref["real_median"], 1.2 * ref["real_median"]
        inside = bool(values.size) and bool(low <= p50 <= high)
        rows.append(
            ref
            | {
                "mock_p5": p5,
                "mock_p50": p50,
                "mock_p95": p95,
                "n_mock": int(values.size),
                "check_low": low,
                "check_high": high,
                "median_inside": inside,
            }
        )
    return pd.DataFrame(rows)
