"""Nodes of the ``train`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.models.artifact import to_artifact
from stronglens_calibration.models.data import StampDataset
from stronglens_calibration.models.networks import NETWORKS
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.models.training import TrainConfig, select_device, train_model

logger = logging.getLogger(__name__)


def training_config(params: dict[str, Any]) -> tuple[TrainConfig, Preprocessing]:
    """Validated hyper-parameters and preprocessing from ``params:train``."""
    p = ParamReader(params, "train")
    m = p.section("model")
    pre = p.section("preprocessing")
    cfg = TrainConfig(
        architecture=m.choice("architecture", sorted(NETWORKS)),
        dropout=m.fraction("dropout"),
        epochs=p.integer("epochs", low=1),
        batch_size=p.integer("batch_size", low=1),
        learning_rate=p.positive("learning_rate"),
        weight_decay=p.number("weight_decay", low=0),
        warmup_epochs=p.integer("warmup_epochs", low=0),
        patience=p.integer("patience", low=1),
        num_workers=p.integer("num_workers", low=0),
        seed=p.integer("seed"),
        balance=p.choice("balance", ["sampler", "loss"]),
    )
    return cfg, Preprocessing(clip=pre.positive("clip"), crop=pre.integer("crop", low=1))


def train_lens_finder(
    objects_split: pd.DataFrame,
    stamps: dict[str, Callable[[], np.ndarray]],
    data_gates_passed: bool,
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
        ``train_loss``, ``val_loss``, ``val_auc`` per epoch for MLflow.
    """
    if not data_gates_passed:
        logger.warning("training although a data gate failed (shortcut_gates.enforce: false)")
    cfg, pre = training_config(params)
    p = ParamReader(params, "train")
    if not objects_split["cutout_ok"].any():
        raise ValueError("no usable object to train on (no cutout_ok row)")
    train = StampDataset(objects_split, stamps, ("train",), pre, augment=True, seed=cfg.seed)
    val = StampDataset(objects_split, stamps, ("val",), pre)
    train.stamp(0)  # a store whose stamps are smaller than the input stops here, named
    device = select_device(str(p.raw("device")))
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
        str(p.raw("checkpoint_dir")),
        device,
        resume=p.boolean("resume"),
    )
    frame = pd.DataFrame(history)
    metrics = {
        key: [
            {"value": float(v), "step": int(e)}
            for v, e in zip(frame[key], frame["epoch"], strict=True)
        ]
        for key in ("train_loss", "val_loss", "val_auc")
    }
    return to_artifact(model, cfg.__dict__, pre), frame, metrics
