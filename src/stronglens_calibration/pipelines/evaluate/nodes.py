"""Nodes of the ``evaluate`` pipeline.

Only ``score_validation`` reads validation rows (for the temperature); every test metric,
the selection function and the gallery read test rows alone. Thresholds are kept on the
raw logit, so that one number selects the same objects whatever the probability scale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration import BANDS
from stronglens_calibration.checks import ParamReader
from stronglens_calibration.evaluation.calibration import (
    calibration_summary,
    expected_calibration_error,
    fit_temperature,
    prior_logit,
    probabilities,
    survey_logits,
)
from stronglens_calibration.evaluation.intervals import jeffreys_interval, proportion
from stronglens_calibration.evaluation.operating_points import (
    precision_at_prevalence,
    threshold_at_fpr,
    tpr_with_fewer_fp_than,
)
from stronglens_calibration.gates.features import read_crops

logger = logging.getLogger(__name__)

#: Columns of the score tables carried over from ``objects_split``.
_ID_COLUMNS = ("object_id", "ra", "dec", "split", "label", "tier", "confuser_category", "psfsize_r")


def fpr_label(fpr: float) -> str:
    """``1e-2`` for 0.01: the key used in reports and metric names."""
    mantissa, exponent = f"{fpr:e}".split("e")
    m = float(mantissa)
    return f"{m:g}e{int(exponent)}"


def _device(params: dict[str, Any]):
    from stronglens_calibration.models.training import select_device

    return select_device(str(ParamReader(params, "evaluate").raw("device")))


def _score_split(
    split: str,
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> pd.DataFrame:
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.data import StampDataset
    from stronglens_calibration.models.inference import score_dataset

    p = ParamReader(params, "evaluate")
    model, pre = from_artifact(lens_finder)
    ds = StampDataset(objects_split, stamps, (split,), pre)
    if len(ds) == 0:
        raise ValueError(f"the {split} split has no object with a usable cutout to evaluate")
    logits, _ = score_dataset(
        model, ds, p.integer("batch_size", low=1), _device(params), f"scoring {split}"
    )
    table = ds.table[list(_ID_COLUMNS)].copy()
    table["confuser_category"] = (
        table["confuser_category"].fillna("").astype(str).replace("", "none")
    )
    table["tier"] = table["tier"].fillna("").astype(str)
    table["logit"] = logits
    table["scored"] = np.isfinite(logits)
    if not table["scored"].all():
        logger.warning(
            "%d %s objects have a non-finite stamp after preprocessing and were not scored",
            int((~table["scored"]).sum()),
            split,
        )
    return table


def score_validation(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Logits of the validation split (for the temperature only).

    Returns
    -------
    pandas.DataFrame
        ``object_id``, ``ra``, ``dec``, ``split``, ``label``, ``tier``,
        ``confuser_category``, ``psfsize_r``, ``logit`` (NaN when not scored), ``scored``.
    """
    return _score_split("val", lens_finder, objects_split, stamps, params)


def score_test(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Logits of the test split; the only stamps the test metrics come from."""
    return _score_split("test", lens_finder, objects_split, stamps, params)


def fit_calibration(
    val_scores: pd.DataFrame, objects_split: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """Temperature by minimum NLL on the validation split, and the priors.

    Only labels are read from ``objects_split`` (the training split's class fraction,
    which the calibrated probabilities refer to); no stamp.

    Returns
    -------
    dict
        :class:`~.evaluation.calibration.TemperatureFit` fields, ``sample_prior`` (lens
        fraction among the usable training objects), ``val_prior`` (the same on the
        validation split, for comparison) and ``survey_prevalence``.
    """
    p = ParamReader(params, "evaluate")
    survey = p.number("survey_prevalence", low=0, high=1)
    prior_logit(survey, "parameter 'evaluate.survey_prevalence'")
    rows = val_scores[val_scores["scored"]]
    fit = fit_temperature(rows["logit"].to_numpy(), rows["label"].to_numpy())
    if fit.at_bound:
        logger.warning("temperature %.3g sits at the edge of its search range", fit.temperature)
    train = objects_split[objects_split["cutout_ok"] & (objects_split["split"] == "train")]
    sample_prior = float((train["label"] == 1).mean()) if len(train) else float("nan")
    if not 0 < sample_prior < 1:
        raise ValueError(
            "the training split needs lenses and non-lenses to define the sample's class "
            f"balance; its lens fraction is {sample_prior}"
        )
    val_prior = float((rows["label"] == 1).mean())
    logger.info(
        "temperature %.3f fitted on %d val objects: NLL %.4f -> %.4f; lens fraction train "
        "%.3f, val %.3f",
        fit.temperature,
        len(rows),
        fit.nll_before,
        fit.nll_after,
        sample_prior,
        val_prior,
    )
    return {
        **fit.to_dict(),
        "sample_prior": sample_prior,
        "val_prior": val_prior,
        "survey_prevalence": survey,
        "split": "val",
    }


def raw_logit_of(p_calibrated: float, calibration: dict[str, Any]) -> float:
    """The raw logit at which the calibrated probability is ``p_calibrated``."""
    return float(calibration["temperature"] * prior_logit(p_calibrated, "a probability threshold"))


def _calibrated(logits: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    return probabilities(np.asarray(logits, dtype=np.float64) / calibration["temperature"])


def _survey(logits: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    return probabilities(
        survey_logits(
            logits,
            calibration["temperature"],
            calibration["sample_prior"],
            calibration["survey_prevalence"],
        )
    )


def operating_thresholds(
    negative_logits: np.ndarray, calibration: dict[str, Any], params: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Raw-logit thresholds: fixed calibrated probabilities and FPR-matched ones.

    Returns
    -------
    dict
        ``p_gt_<p>`` and ``fpr_<f>`` to ``threshold_logit`` and, for FPR-matched
        thresholds, ``allowed_fp`` and ``resolved``.
    """
    p = ParamReader(params, "evaluate")
    ops: dict[str, dict[str, Any]] = {}
    for value in p.raw("probability_thresholds"):
        t = float(value)
        if not 0 < t < 1:
            raise ValueError(
                f"parameter 'evaluate.probability_thresholds' must lie in (0, 1), got {t}"
            )
        ops[f"p_gt_{t:g}"] = {
            "threshold_logit": raw_logit_of(t, calibration),
            "kind": "probability",
        }
    for f in p.raw("fpr_targets"):
        ft = threshold_at_fpr(negative_logits, float(f))
        ops[f"fpr_{fpr_label(float(f))}"] = {
            "threshold_logit": ft.threshold,
            "kind": "fpr",
            "target_fpr": ft.target_fpr,
            "allowed_fp": ft.allowed_fp,
            "resolved": ft.resolved,
        }
    for op in ops.values():
        z = np.array([op["threshold_logit"]])
        op["threshold_p_calibrated"] = float(_calibrated(z, calibration)[0])
    return ops


def evaluate_test(
    test_scores: pd.DataFrame, calibration: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every test-split metric, and the ranked candidate table.

    Returns
    -------
    metrics : dict
        AUC with its bootstrap interval, operating points (threshold, TPR, FPR with
        Jeffreys intervals), TPR0/TPR10, recall per tier, FPR per confuser category,
        precision at the survey prevalence, ECE before and after calibration.
    candidates : pandas.DataFrame
        Test objects by decreasing score: ``rank``, ``p_raw`` (the network's sigmoid),
        ``p_calibrated`` (labelled-sample prevalence), ``p_survey`` (survey prevalence).
    """
    from stronglens_calibration.gates.statistics import bootstrap, bootstrap_auc, weighted_auc

    p = ParamReader(params, "evaluate")
    level = 0.95
    scored = test_scores[test_scores["scored"]]
    y = scored["label"].to_numpy(int)
    z = scored["logit"].to_numpy(float)
    pos, neg = y == 1, y == 0
    if pos.sum() == 0 or neg.sum() == 0:
        raise ValueError(
            f"the test split needs lenses and non-lenses; it has {int(pos.sum())} and "
            f"{int(neg.sum())} scored"
        )
    n_boot = p.integer("n_bootstrap", low=10)
    seed = p.integer("seed")
    auc = weighted_auc(y, z, np.ones(len(y)))
    auc_lo, auc_hi = bootstrap_auc(y, z, np.ones(len(y)), n_boot, seed)
    ops = operating_thresholds(z[neg], calibration, params)
    tier = scored["tier"].to_numpy(str)
    category = scored["confuser_category"].to_numpy(str)
    survey = calibration["survey_prevalence"]
    recall: dict[str, dict[str, Any]] = {"A": {}, "B": {}}
    fpr_by_category: dict[str, dict[str, Any]] = {c: {} for c in sorted(set(category[neg]))}
    precision: dict[str, Any] = {}
    for name, op in ops.items():
        sel = z > op["threshold_logit"]
        k_tp, k_fp = int(sel[pos].sum()), int(sel[neg].sum())
        tpr = proportion(k_tp, int(pos.sum()), level)
        fpr = proportion(k_fp, int(neg.sum()), level)
        op.update(tpr=tpr["value"], tpr_ci_low=tpr["ci_low"], tpr_ci_high=tpr["ci_high"])
        op.update(fpr=fpr["value"], fpr_ci_low=fpr["ci_low"], fpr_ci_high=fpr["ci_high"])
        op.update(n_tp=k_tp, n_fp=k_fp)
        for t in ("A", "B"):
            rows = pos & (tier == t)
            recall[t][name] = proportion(int(sel[rows].sum()), int(rows.sum()), level)
        for c, by_op in fpr_by_category.items():
            rows = neg & (category == c)
            by_op[name] = proportion(int(sel[rows].sum()), int(rows.sum()), level)
        precision[name] = {
            "value": precision_at_prevalence(tpr["value"], fpr["value"], survey),
            # pessimistic end: fewest lenses found, most non-lenses let through
            "lower": precision_at_prevalence(tpr["ci_low"], fpr["ci_high"], survey),
            "upper": precision_at_prevalence(tpr["ci_high"], fpr["ci_low"], survey),
        }
    p_raw = probabilities(z)
    p_cal = _calibrated(z, calibration)
    n_bins = p.integer("ece_bins", low=1)
    ece: dict[str, Any] = {}
    for name, prob in (("before", p_raw), ("after", p_cal)):
        ece[name] = calibration_summary(prob, y, n_bins)
        ece[name]["overall_ci_low"], ece[name]["overall_ci_high"] = bootstrap(
            lambda idx, prob=prob: expected_calibration_error(prob[idx], y[idx], n_bins),
            y,
            n_boot,
            seed,
        )
    metrics: dict[str, Any] = {
        "split": "test",
        "n_positive": int(pos.sum()),
        "n_negative": int(neg.sum()),
        "n_tier_a": int((pos & (tier == "A")).sum()),
        "n_tier_b": int((pos & (tier == "B")).sum()),
        "n_unscored": int((~test_scores["scored"]).sum()),
        "auc": auc,
        "auc_ci_low": auc_lo,
        "auc_ci_high": auc_hi,
        "tpr0": tpr_with_fewer_fp_than(z[pos], z[neg], 0),
        "tpr10": tpr_with_fewer_fp_than(z[pos], z[neg], 9),
        "operating_points": ops,
        "recall_tier_a": recall["A"],
        "recall_tier_b": recall["B"],
        "fpr_by_confuser_category": fpr_by_category,
        "precision_at_survey_prevalence": {"prevalence": survey, **precision},
        "ece_before": ece["before"]["overall"],
        "ece_after": ece["after"]["overall"],
        "ece": ece,
        "ece_bins": n_bins,
    }
    for name, op in ops.items():
        if op["kind"] == "fpr":
            metrics[f"tpr_at_{name}"] = op["tpr"]
    candidates = test_scores.copy()
    candidates["p_raw"] = probabilities(candidates["logit"].to_numpy(float))
    candidates["p_calibrated"] = _calibrated(candidates["logit"].to_numpy(float), calibration)
    candidates["p_survey"] = _survey(candidates["logit"].to_numpy(float), calibration)
    for name, op in ops.items():
        candidates[f"selected_{name}"] = candidates["logit"] > op["threshold_logit"]
    candidates = candidates.sort_values("logit", ascending=False, na_position="last", kind="stable")
    candidates.insert(0, "rank", np.arange(1, len(candidates) + 1))
    logger.info(
        "test: AUC %.3f [%.3f, %.3f], TPR0 %.2f, TPR10 %.2f, ECE %.3f -> %.3f",
        auc,
        auc_lo,
        auc_hi,
        metrics["tpr0"],
        metrics["tpr10"],
        metrics["ece_before"],
        metrics["ece_after"],
    )
    return metrics, candidates.reset_index(drop=True)


def measure_selection_function(
    lens_finder: dict,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    test_metrics: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Injection-recovery into test-split non-lenses, and the realism checks.

    Returns
    -------
    injections : pandas.DataFrame
        One row per injection: its plan (host, cell, arc parameters), ``logit``,
        ``aperture_flux_r`` and ``detected_<operating point>``.
    selection_function : pandas.DataFrame
        Per operating point and cell: edges, ``n``, ``k``, ``completeness`` with its
        Jeffreys interval.
    realism : dict
        ``injection_brightness`` (median central-aperture r flux of injections over
        that of the real test positives) and ``realism_probe`` (linear-probe AUC), both
        on the injections within ``realism.lensed_mag_r``.
    """
    from tqdm.auto import tqdm

    from stronglens_calibration.evaluation.injection import (
        InjectionConfig,
        plan_injections,
        render_injection,
    )
    from stronglens_calibration.evaluation.realism import aperture_flux, linear_probe, median_ratio
    from stronglens_calibration.models.artifact import from_artifact
    from stronglens_calibration.models.inference import score_stamps
    from stronglens_calibration.stamps.statistics import stamp_statistics

    p = ParamReader(params, "evaluate")
    cfg = InjectionConfig.from_params(p.raw("injection"))
    seed = p.integer("seed")
    batch = p.integer("batch_size", low=1)
    core = p.positive("core_radius_px")
    annulus = p.interval("annulus_px", low=0)
    real = p.section("realism")
    aperture = real.positive("aperture_radius_px")
    mag_range = real.interval("lensed_mag_r")
    model, pre = from_artifact(lens_finder)
    device = _device(params)
    test = objects_split[objects_split["cutout_ok"] & (objects_split["split"] == "test")]
    hosts = test[test["label"] == 0]
    if p.boolean("injection_hosts_exclude_confusers"):
        hosts = hosts[hosts["confuser_category"].fillna("") == ""]
    plan = plan_injections(hosts, cfg, seed)
    host_stamps = read_crops(plan, stamps)
    logger.info(
        "injecting %d lensed sources into %d test non-lenses", len(plan), plan["host_id"].nunique()
    )
    injected = np.stack(
        [
            render_injection(row, host_stamps[i], cfg, seed)
            for i, row in enumerate(
                tqdm(plan.to_dict("records"), desc="injecting", unit="arc", leave=False)
            )
        ]
    )
    stats = stamp_statistics(injected, core, annulus)
    median = np.stack([stats[f"annulus_median_{b}"] for b in BANDS], axis=1)
    mad = np.stack([stats[f"annulus_mad_{b}"] for b in BANDS], axis=1)
    logits, features = score_stamps(
        model,
        len(injected),
        lambda sl: pre(injected[sl], median[sl], mad[sl]),
        batch,
        device,
        "scoring injections",
    )
    injections = plan.copy()
    injections["logit"] = logits
    injections["aperture_flux_r"] = aperture_flux(injected, aperture, annulus)
    ops = test_metrics["operating_points"]
    for name, op in ops.items():
        injections[f"detected_{name}"] = injections["logit"] > op["threshold_logit"]

    # the selection function: completeness per cell and operating point
    fwhm_range = injections.groupby("psf_bin")["fwhm_r"].agg(["min", "max"])
    cells = []
    for name in ops:
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
    selection = pd.DataFrame(cells)

    # realism: injections in the magnitude range of real arcs against real test positives
    positives = test[test["label"] == 1]
    if positives.empty:
        raise ValueError("the realism checks need real lenses in the test split; it has none")
    real_stamps = read_crops(positives, stamps)
    pos_median = positives[[f"annulus_median_{b}" for b in BANDS]].to_numpy(np.float32)
    pos_mad = positives[[f"annulus_mad_{b}" for b in BANDS]].to_numpy(np.float32)
    _, real_features = score_stamps(
        model,
        len(real_stamps),
        lambda sl: pre(real_stamps[sl], pos_median[sl], pos_mad[sl]),
        batch,
        device,
        "scoring real lenses",
    )
    real_flux = aperture_flux(real_stamps, aperture, annulus)
    in_range = (injections["lensed_mag_r"] >= mag_range[0]) & (
        injections["lensed_mag_r"] <= mag_range[1]
    )
    sample = in_range.to_numpy() & np.isfinite(features).all(axis=1)
    n_boot = p.integer("n_bootstrap", low=10)
    brightness = median_ratio(injections.loc[in_range, "aperture_flux_r"], real_flux, n_boot, seed)
    ok_real = np.isfinite(real_features).all(axis=1)
    probe = linear_probe(
        real_features[ok_real], features[sample], real.integer("probe_folds", low=2), seed, n_boot
    )
    realism = {
        "lensed_mag_r": list(mag_range),
        "aperture_radius_px": aperture,
        "injection_brightness": brightness,
        "realism_probe": probe,
        "n_injections": int(len(injections)),
        "n_hosts": int(injections["host_id"].nunique()),
    }
    logger.info(
        "injections / real lenses: aperture brightness ratio %.2f, linear-probe AUC %.3f",
        brightness["value"],
        probe["auc"],
    )
    return injections, selection, realism


def realism_verdict(brightness_ratio: float, probe_auc: float, params: dict[str, Any]) -> str:
    """One sentence on whether the selection function describes real lenses."""
    r = ParamReader(params, "evaluate").section("realism")
    lo, hi = r.interval("brightness_ratio_ok")
    max_auc = r.number("probe_auc_ok", low=0.5, high=1.0)
    problems = []
    if not lo <= brightness_ratio <= hi:
        problems.append(
            f"injections are {brightness_ratio:.2f}x as bright as real lenses in the central "
            f"aperture (accepted: {lo}-{hi})"
        )
    if probe_auc > max_auc:
        problems.append(
            f"a linear probe on the model's features tells injections from real lenses with "
            f"AUC {probe_auc:.3f} (accepted: <= {max_auc})"
        )
    if problems:
        return (
            "The selection function does NOT describe real lenses: "
            + "; ".join(problems)
            + ". Its completeness is that of these injections, not of lenses in the survey."
        )
    return (
        f"Injections resemble real lenses: brightness ratio {brightness_ratio:.2f}, probe AUC "
        f"{probe_auc:.3f}; the selection function may be read as that of real lenses within "
        "the injected parameter ranges."
    )


def assemble_evaluation_report(
    calibration: dict[str, Any],
    test_metrics: dict[str, Any],
    realism: dict[str, Any],
    selection_function: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``evaluation_report.json`` and its numbers as MLflow metrics.

    Returns
    -------
    report : dict
        Headline keys (``auc``, ``auc_ci_low``, ``auc_ci_high``, ``tpr_at_fpr_1e-2``,
        ``tpr_at_fpr_1e-3``, ``tpr0``, ``tpr10``, ``recall_tier_a``, ``recall_tier_b``,
        ``ece_before``, ``ece_after``, ``temperature``, ``injection_brightness_ratio``,
        ``realism_probe_auc``) and the details behind them.
    metrics : dict
        Flat ``{name: {"value", "step"}}`` for kedro-mlflow.
    """
    ratio = realism["injection_brightness"]["value"]
    probe_auc = realism["realism_probe"]["auc"]
    completeness = {
        op: proportion(int(g["k"].sum()), int(g["n"].sum()))
        for op, g in selection_function.groupby("operating_point", sort=False)
    }
    notes = [
        "Every number is on the test split; only the temperature comes from the validation split.",
        "Thresholds named p_gt_<p> apply to p_calibrated = sigmoid(z / T): probabilities at "
        f"the labelled sample's class balance (lens fraction {calibration['sample_prior']:.3f} "
        "in the training split).",
        "p_survey shifts them to the survey prevalence "
        f"{calibration['survey_prevalence']:g}: logit p_survey = z / T - logit(pi_sample) + "
        "logit(pi_survey). Precision is quoted at the survey prevalence.",
        "FPR-matched thresholds come from the test non-lenses; with n non-lenses an FPR below "
        "1/n is not resolved (resolved: false) and the threshold is the highest non-lens score.",
        "Intervals: AUC by class-stratified bootstrap; proportions by the Jeffreys interval "
        "(95 %).",
    ]
    for name, op in test_metrics["operating_points"].items():
        if op["kind"] == "fpr" and not op["resolved"]:
            notes.append(
                f"{name}: {test_metrics['n_negative']} test non-lenses cannot resolve FPR "
                f"{op['target_fpr']:g}; its TPR is that at zero false positives."
            )
    report = {
        **{k: v for k, v in test_metrics.items() if k != "ece"},
        "ece": test_metrics["ece"],
        "temperature": calibration["temperature"],
        "calibration": calibration,
        "injection_brightness_ratio": ratio,
        "realism_probe_auc": probe_auc,
        "realism": realism,
        "selection_function_completeness": completeness,
        "realism_verdict": realism_verdict(ratio, probe_auc, params),
        "notes": notes,
    }
    flat: dict[str, float] = {}
    for key in (
        "auc",
        "auc_ci_low",
        "auc_ci_high",
        "tpr0",
        "tpr10",
        "ece_before",
        "ece_after",
        "temperature",
        "injection_brightness_ratio",
        "realism_probe_auc",
    ):
        flat[key] = report[key]
    for key, value in test_metrics.items():
        if key.startswith("tpr_at_fpr_"):
            flat[key] = value
    for tier in ("a", "b"):
        for op, v in report[f"recall_tier_{tier}"].items():
            flat[f"recall_tier_{tier}.{op}"] = v["value"]
    for op, v in report["precision_at_survey_prevalence"].items():
        if isinstance(v, dict):
            flat[f"precision_at_survey_prevalence.{op}"] = v["value"]
    for op, v in completeness.items():
        flat[f"selection_completeness.{op}"] = v["value"]
    flat["ece_after_positives"] = test_metrics["ece"]["after"]["positives"]
    flat["ece_before_positives"] = test_metrics["ece"]["before"]["positives"]
    metrics = {
        f"evaluate.{k}": {"value": float(v), "step": 0}
        for k, v in flat.items()
        if v is not None and np.isfinite(v)
    }
    return report, metrics


def plot_roc(candidates: pd.DataFrame, report: dict[str, Any]) -> matplotlib.figure.Figure:
    """ROC curve of the test split with the operating points."""
    from stronglens_calibration.evaluation.plots import roc_figure

    return roc_figure(candidates[candidates["scored"]], report)


def plot_score_histograms(
    candidates: pd.DataFrame, report: dict[str, Any]
) -> matplotlib.figure.Figure:
    """Calibrated probabilities per class, tier and confuser category."""
    from stronglens_calibration.evaluation.plots import score_histograms

    thresholds = {
        name: op["threshold_p_calibrated"] for name, op in report["operating_points"].items()
    }
    return score_histograms(candidates[candidates["scored"]], thresholds)


def plot_reliability(candidates: pd.DataFrame, report: dict[str, Any]) -> matplotlib.figure.Figure:
    """Reliability diagram of the test split before and after temperature scaling."""
    from stronglens_calibration.evaluation.plots import reliability_figure

    rows = candidates[candidates["scored"]]
    return reliability_figure(
        rows["label"].to_numpy(int),
        rows["p_raw"].to_numpy(float),
        rows["p_calibrated"].to_numpy(float),
        int(report["ece_bins"]),
        report["ece"],
    )


def plot_completeness(selection_function: pd.DataFrame) -> matplotlib.figure.Figure:
    """Completeness maps per operating point and PSF bin."""
    from stronglens_calibration.evaluation.plots import completeness_figure

    return completeness_figure(
        selection_function, list(selection_function["operating_point"].unique())
    )


def plot_gallery(
    candidates: pd.DataFrame,
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    params: dict[str, Any],
) -> matplotlib.figure.Figure:
    """g, r, z composites: the top-ranked test objects, and the highest-scoring test
    non-lenses (what a visual inspector would be sent first)."""
    from stronglens_calibration.evaluation.plots import gallery_figure

    g = ParamReader(params, "evaluate").section("gallery")
    n = g.integer("n_per_row", low=1)
    ranked = candidates[candidates["scored"]]
    test = objects_split[(objects_split["split"] == "test") & objects_split["cutout_ok"]]
    test = test.set_index("object_id")
    panels = []
    for title, rows in (
        ("top-ranked test objects", ranked.head(n)),
        ("highest-scoring non-lenses", ranked[ranked["label"] == 0].head(n)),
        ("lowest-scoring lenses", ranked[ranked["label"] == 1].tail(n)[::-1]),
    ):
        if rows.empty:
            continue
        pix = read_crops(test.loc[rows["object_id"]], stamps)
        items = []
        for stamp, r in zip(pix, rows.itertuples(), strict=True):
            kind = f"lens {r.tier}" if r.label == 1 else f"non-lens ({r.confuser_category})"
            items.append((stamp, f"#{r.rank} p={r.p_calibrated:.2f}\n{kind}"))
        panels.append((title, items))
    return gallery_figure(
        panels, g.positive("lupton_q"), g.positive("lupton_stretch"), g.integer("crop", low=8)
    )
