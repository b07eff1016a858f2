"""Nodes of the ``train`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.models.artifact import to_artifact
from stronglens_calibration.models.data import StampDataset
from stronglens_calibration.models.training import select_device, train_model
from stronglens_calibration.pipelines.shortcut_gates.clearance import check_data_verdict
from stronglens_calibration.pipelines.train.config import TrainSettings
from stronglens_calibration.stamps.generations import shards_for_table

logger = logging.getLogger(__name__)


def train_lens_finder(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    data_gates_passed: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict, pd.DataFrame, dict[str, list[dict[str, float]]]]:
    """Train on the ``train`` split, early-stop on ``val``; ``test`` is never read.

    Returns
    -------
    lens_finder : dict
        Weights, hyper-parameters and preprocessing (``weights_only`` loadable).
    history : pandas.DataFrame
        One row per epoch.
    metrics : dict
        ``train_loss``, ``val_loss``, ``val_auc`` per epoch for MLflow, and the best
        epoch's (the saved model's) ``best_epoch``, ``best_val_auc``, ``best_val_loss``.
    """
    settings = TrainSettings.from_params(params)
    check_data_verdict(data_gates_passed, objects_split, "training", settings.preprocessing.clip)
    stamps = shards_for_table(objects_split, stamps, "objects_split")
    cfg, pre = settings.hyper, settings.network_input
    if not objects_split["cutout_ok"].any():
        raise ValueError("no usable object to train on (no cutout_ok row)")
    train = StampDataset(objects_split, stamps, ("train",), pre, augment=True, seed=cfg.seed)
    val = StampDataset(objects_split, stamps, ("val",), pre)
    train.stamp(0)  # a store whose stamps are smaller than the input stops here, named
    device = select_device(settings.device)
    logger.info(
        "training %s on %s: %d train (%d lenses), %d val objects",
        cfg.architecture,
        device,
        len(train),
        int(train.labels.sum()),
        len(val),
    )
    model, history = train_model(
        train,
        val,
        cfg,
        pre.to_dict(),
        settings.checkpoint_dir,
        device,
        resume=settings.resume,
    )
    frame = pd.DataFrame(history)
    metrics = {
        key: [
            {"value": float(v), "step": int(e)}
            for v, e in zip(frame[key], frame["epoch"], strict=True)
        ]
        for key in ("train_loss", "val_loss", "val_auc")
    }
    if frame["val_auc"].notna().any():  # the saved model is the best epoch's: say so
        best = frame.loc[frame["val_auc"].idxmax()]
        metrics["best_epoch"] = [{"value": float(best["epoch"]), "step": 0}]
        metrics["best_val_auc"] = [{"value": float(best["val_auc"]), "step": 0}]
        metrics["best_val_loss"] = [{"value": float(best["val_loss"]), "step": 0}]
    return to_artifact(model, cfg.__dict__, pre), frame, metrics
