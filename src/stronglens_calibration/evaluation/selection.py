"""The selection function by injection-recovery, and the realism of the injections.

Arcs of the parametric injection model (:mod:`~.injection`) are added to real test-split
non-lenses, scored with the trained finder, and tabulated per (PSF, theta_E, magnitude)
cell; the realism checks then ask whether those injections look like the real test
lenses to the network (a linear probe on its features) and in brightness. Kedro-free:
each step is a function of arrays and tables, in the order the pipeline runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from stronglens_calibration import BANDS
from stronglens_calibration.evaluation.injection import InjectionConfig, render_injection
from stronglens_calibration.evaluation.realism import (
    aperture_flux,
    arc_flux,
    linear_probe,
    median_ratio,
)
from stronglens_calibration.gates.arc_suppression import ExcessLight
from stronglens_calibration.stamps.reading import read_stamps
from stronglens_calibration.stats import jeffreys_interval

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RealismConfig:
    """How injections are compared with real lenses.

    Attributes
    ----------
    lensed_mag_r : tuple of float
        Injections within this total lensed r magnitude range (AB) are compared.
    aperture_radius_px : float
        Central r-band aperture (pixels) of the brightness ratio.
    sky_annulus_px : tuple of float
        Ring whose median is the sky (pixels); also the normalisation annulus.
    core_radius_px : float
        Core aperture (pixels) of the stamp statistics.
    probe_folds : int
        Folds of the linear probe.
    brightness_ratio_ok : tuple of float
        Accepted injection / real brightness ratios.
    probe_auc_ok : float
        Largest accepted probe AUC.
    n_bootstrap, seed : int
        Bootstrap resamples and seed.
    arc_light : ExcessLight
        How the host-subtracted arc flux finds arc light (between the core and the
        aperture radius).
    """

    lensed_mag_r: tuple[float, float]
    aperture_radius_px: float
    sky_annulus_px: tuple[float, float]
    core_radius_px: float
    probe_folds: int
    brightness_ratio_ok: tuple[float, float]
    probe_auc_ok: float
    n_bootstrap: int
    seed: int
    arc_light: ExcessLight = ExcessLight()

    def arc_flux(self, stamps: np.ndarray) -> np.ndarray:
        """Host-subtracted r-band arc flux between the core and the aperture radius
        (:func:`~.realism.arc_flux`), nanomaggies ``(n,)``."""
        return arc_flux(
            stamps, self.core_radius_px, self.aperture_radius_px, self.sky_annulus_px,
            self.arc_light,
        )  # fmt: skip


def injection_hosts(objects: pd.DataFrame, exclude_confusers: bool) -> pd.DataFrame:
    """Usable test-split non-lenses (ordinary galaxies only, if ``exclude_confusers``)."""
    test = objects[objects["cutout_ok"] & (objects["split"] == "test")]
    hosts = test[test["label"] == 0]
    if exclude_confusers:
        hosts = hosts[hosts["confuser_category"].fillna("") == ""]
    return hosts


def render_injections(
    plan: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    cfg: InjectionConfig,
    seed: int,
) -> np.ndarray:
    """Every planned injection rendered into its host's stamp.

    Returns
    -------
    numpy.ndarray
        float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel, in plan order.
    """
    host_stamps = read_stamps(plan, stamps)
    logger.info(
        "injecting %d lensed sources into %d test non-lenses", len(plan), plan["host_id"].nunique()
    )
    rows = tqdm(plan.to_dict("records"), desc="injecting", unit="arc", leave=False)
    return np.stack(
        [render_injection(row, host_stamps[i], cfg, seed) for i, row in enumerate(rows)]
    )


def score_injections(
    lens_finder: Mapping[str, Any],
    plan: pd.DataFrame,
    injected: np.ndarray,
    operating_points: Mapping[str, Mapping[str, Any]],
    realism: RealismConfig,
    batch_size: int,
    device: Any,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Score the injections as ingest-and-quality would have seen them.

    Each injected stamp is normalised with its own annulus statistics (as quality
    measures them), then scored in batches.

    Returns
    -------
    injections : pandas.DataFrame
        The plan with ``logit``, ``aperture_flux_r`` and ``arc_flux_r`` (host-subtracted;
        nanomaggies) and ``detected_<operating point>``.
    features : numpy.ndarray
        float32 ``(n, k)`` penultimate-layer features (for the realism probe).
    """
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.inference import score_stamps
    from stronglens_calibration.stamps.statistics import stamp_statistics

    model, pre = from_artifact(lens_finder)
    stats = stamp_statistics(injected, realism.core_radius_px, realism.sky_annulus_px)
    median = np.stack([stats[f"annulus_median_{b}"] for b in BANDS], axis=1)
    mad = np.stack([stats[f"annulus_mad_{b}"] for b in BANDS], axis=1)
    logits, features = score_stamps(
        model,
        len(injected),
        lambda sl: pre(injected[sl], median[sl], mad[sl]),
        batch_size,
        device,
        "scoring injections",
    )
    injections = plan.copy()
    injections["logit"] = logits
    injections["aperture_flux_r"] = aperture_flux(
        injected, realism.aperture_radius_px, realism.sky_annulus_px
    )
    injections["arc_flux_r"] = realism.arc_flux(injected)
    for name, op in operating_points.items():
        injections[f"detected_{name}"] = injections["logit"] > op["threshold_logit"]
    return injections, features


def tabulate_selection_function(
    injections: pd.DataFrame,
    operating_points: Mapping[str, Mapping[str, Any]],
    cfg: InjectionConfig,
) -> pd.DataFrame:
    """Completeness per operating point and (PSF, theta_E, magnitude) cell.

    Returns
    -------
    pandas.DataFrame
        Per cell: edges (arcsec, AB mag, arcsec FWHM), ``n``, ``k``, ``completeness``
        and its Jeffreys 95 % interval.
    """
    fwhm_range = injections.groupby("psf_bin")["fwhm_r"].agg(["min", "max"])
    cells = []
    for name in operating_points:
        grouped = injections.groupby(["psf_bin", "theta_e_bin", "mag_bin"])[f"detected_{name}"]
        for (k, i, j), det in grouped:
            lo, hi = jeffreys_interval(int(det.sum()), len(det))
            cells.append(
                {
                    "operating_point": name,
                    "psf_bin": int(k),
                    "theta_e_bin": int(i),
                    "mag_bin": int(j),
                    "theta_e_low": cfg.theta_e_edges[i],
                    "theta_e_high": cfg.theta_e_edges[i + 1],
                    "mag_low": cfg.mag_edges[j],
                    "mag_high": cfg.mag_edges[j + 1],
                    "fwhm_low": float(fwhm_range.loc[k, "min"]),
                    "fwhm_high": float(fwhm_range.loc[k, "max"]),
                    "n": int(len(det)),
                    "k": int(det.sum()),
                    "completeness": float(det.mean()),
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                }
            )
    return pd.DataFrame(cells)


def measure_realism(
    lens_finder: Mapping[str, Any],
    objects: pd.DataFrame,
    stamps: Mapping[str, Callable[[], np.ndarray]],
    injections: pd.DataFrame,
    features: np.ndarray,
    cfg: RealismConfig,
    batch_size: int,
    device: Any,
) -> dict[str, Any]:
    """Injections within ``cfg.lensed_mag_r`` against the real test lenses.

    Returns
    -------
    dict
        ``injection_brightness`` (median central-aperture r flux of the injections over
        that of the real test lenses: hosts and arcs together), ``arc_brightness`` (the
        same for the host-subtracted arc flux: arcs only) and ``realism_probe``
        (linear-probe AUC on the network's features), with the sample sizes.
    """
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.inference import score_stamps

    model, pre = from_artifact(lens_finder)
    test = objects[objects["cutout_ok"] & (objects["split"] == "test")]
    positives = test[test["label"] == 1]
    if positives.empty:
        raise ValueError("the realism checks need real lenses in the test split; it has none")
    real_stamps = read_stamps(positives, stamps)
    pos_median = positives[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
    pos_mad = positives[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)
    _, real_features = score_stamps(
        model,
        len(real_stamps),
        lambda sl: pre(real_stamps[sl], pos_median[sl], pos_mad[sl]),
        batch_size,
        device,
        "scoring real lenses",
    )
    real_flux = aperture_flux(real_stamps, cfg.aperture_radius_px, cfg.sky_annulus_px)
    lo, hi = cfg.lensed_mag_r
    in_range = (injections["lensed_mag_r"] >= lo) & (injections["lensed_mag_r"] <= hi)
    sample = in_range.to_numpy() & np.isfinite(features).all(axis=1)
    brightness = median_ratio(
        injections.loc[in_range, "aperture_flux_r"], real_flux, cfg.n_bootstrap, cfg.seed
    )
    arcs = median_ratio(
        injections.loc[in_range, "arc_flux_r"], cfg.arc_flux(real_stamps), cfg.n_bootstrap,
        cfg.seed,
    )  # fmt: skip
    ok_real = np.isfinite(real_features).all(axis=1)
    probe = linear_probe(
        real_features[ok_real],
        features[sample],
        cfg.probe_folds,
        cfg.seed,
        cfg.n_bootstrap,
        injected_hosts=injections.loc[sample, "host_id"].to_numpy(),
    )
    logger.info(
        "injections / real lenses: aperture brightness ratio %.2f, host-subtracted arc "
        "brightness ratio %.2f, linear-probe AUC %.3f",
        brightness["value"],
        arcs["value"],
        probe["auc"],
    )
    return {
        "lensed_mag_r": list(cfg.lensed_mag_r),
        "aperture_radius_px": cfg.aperture_radius_px,
        "injection_brightness": brightness,
        "arc_brightness": arcs,
        "realism_probe": probe,
        "n_injections": int(len(injections)),
        "n_hosts": int(injections["host_id"].nunique()),
    }


def realism_verdict(
    brightness_ratio: float,
    probe_auc: float,
    cfg: RealismConfig,
    probe_ci: tuple[float, float] | None = None,
    arc_ratio: float | None = None,
) -> str:
    """One sentence on whether the selection function describes real lenses.

    Three answers: it does not (the central-aperture or the host-subtracted arc
    brightness ratio outside the accepted range, or probe AUC above ``probe_auc_ok``);
    the injections are close to real lenses but the probe tells them apart (its 95 %
    interval ``probe_ci`` excludes 0.5); or nothing separates them.
    """
    lo, hi = cfg.brightness_ratio_ok
    max_auc = cfg.probe_auc_ok
    problems = []
    if not lo <= brightness_ratio <= hi:
        problems.append(
            f"injections are {brightness_ratio:.2f}x as bright as real lenses in the central "
            f"aperture (accepted: {lo}-{hi})"
        )
    if arc_ratio is not None and not lo <= arc_ratio <= hi:
        problems.append(
            f"their arcs, with the host light subtracted, are {arc_ratio:.2f}x as bright as "
            f"real lenses' (accepted: {lo}-{hi})"
        )
    if probe_auc > max_auc:
        problems.append(
            f"a linear probe on the model's features tells injections from real lenses with "
            f"AUC {probe_auc:.3f} (accepted: <= {max_auc})"
        )
    separable = probe_ci is not None and probe_ci[0] > 0.5
    if problems:
        if separable and probe_auc <= max_auc:
            problems.append(
                f"a linear probe on the model's features also tells them apart (AUC "
                f"{probe_auc:.3f}, 95 % interval {probe_ci[0]:.3f}-{probe_ci[1]:.3f})"
            )
        return (
            "The selection function does NOT describe real lenses: "
            + "; ".join(problems)
            + ". Its completeness is that of these injections, not of lenses in the survey."
        )
    if separable:
        return (
            f"Injections are close to real lenses but distinguishable: brightness ratio "
            f"{brightness_ratio:.2f}; a linear probe on the model's features tells them apart "
            f"with AUC {probe_auc:.3f} (95 % interval {probe_ci[0]:.3f}-{probe_ci[1]:.3f}, "
            "excluding 0.5). The selection function is the completeness for the injected "
            "arcs; it holds for real lenses only as far as the model responds to both alike."
        )
    return (
        f"Injections resemble real lenses: brightness ratio {brightness_ratio:.2f}, probe AUC "
        f"{probe_auc:.3f}; the selection function may be read as that of real lenses within "
        "the injected parameter ranges."
    )
