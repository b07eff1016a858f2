"""The ``train`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stronglens_calibration.checks import ParamReader
from stronglens_calibration.models.networks import NETWORKS
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.models.training import TrainConfig, check_device


@dataclass(frozen=True)
class TrainSettings:
    """Validated ``params:train``.

    Attributes
    ----------
    hyper : TrainConfig
        Hyper-parameters, saved with every checkpoint.
    preprocessing : Preprocessing
        Normalisation and crop, saved with the model.
    device : str
        ``auto`` (CUDA, then MPS, then CPU) or a torch device name.
    checkpoint_dir : str
        Folder or URI of ``last.pt`` and ``best.pt``.
    resume : bool
        Continue from ``last.pt`` after an interruption.
    """

    hyper: TrainConfig
    preprocessing: Preprocessing
    device: str
    checkpoint_dir: str
    resume: bool

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TrainSettings:
        p = ParamReader(params, "train")
        m = p.section("model")
        pre = p.section("preprocessing")
        hyper = TrainConfig(
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
        return cls(
            hyper=hyper,
            preprocessing=Preprocessing(clip=pre.positive("clip"), crop=pre.integer("crop", low=8)),
            device=check_device(str(p.raw("device")), "train.device"),
            checkpoint_dir=str(p.raw("checkpoint_dir")),
            resume=p.boolean("resume"),
        )
