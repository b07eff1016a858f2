"""The ``train`` pipeline's parameters: one typed schema of ``params:train``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from stronglens_calibration.models.networks import NETWORKS
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.models.training import TorchDevice, TrainConfig
from stronglens_calibration.parameter_schema import (
    Bool,
    Fraction,
    Int,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Str,
)


class Model(Section):
    """The network: an architecture of :data:`~.models.networks.NETWORKS` and its dropout."""

    architecture: Str
    dropout: Fraction

    @field_validator("architecture")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in NETWORKS:
            raise ValueError(
                f"parameter 'train.model.architecture' must be one of {sorted(NETWORKS)}, "
                f"got {value!r}"
            )
        return value


class NetworkInput(Section):
    """Normalisation clip (sky sigmas) and central crop (pixels) of the network's input."""

    clip: PositiveFloat
    crop: Annotated[int, Field(ge=8, strict=True)]


class TrainSettings(Section):
    """``params:train``.

    Attributes
    ----------
    device : str
        ``auto`` (CUDA, then MPS, then CPU) or a torch device this machine has.
    checkpoint_dir : str
        Folder or URI of ``last.pt`` and ``best.pt``.
    resume : bool
        Continue from ``last.pt`` after an interruption.
    model, preprocessing
        The sub-sections; :attr:`hyper` and :attr:`network_input` are what training and
        the saved model take.
    """

    seed: Int
    device: TorchDevice
    checkpoint_dir: Str
    resume: Bool
    model: Model
    preprocessing: NetworkInput
    epochs: PositiveInt
    batch_size: PositiveInt
    learning_rate: PositiveFloat
    weight_decay: NonNegativeFloat
    warmup_epochs: NonNegativeInt
    patience: PositiveInt
    num_workers: NonNegativeInt
    balance: Literal["sampler", "loss"]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TrainSettings:
        """Validate ``params:train``."""
        return cls.parse(params, "train")

    @property
    def hyper(self) -> TrainConfig:
        """The hyper-parameters, saved with every checkpoint."""
        return TrainConfig(
            architecture=self.model.architecture,
            dropout=float(self.model.dropout),
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            warmup_epochs=self.warmup_epochs,
            patience=self.patience,
            num_workers=self.num_workers,
            seed=self.seed,
            balance=self.balance,
        )

    @property
    def network_input(self) -> Preprocessing:
        """Normalisation and crop, saved with the model."""
        return Preprocessing(clip=float(self.preprocessing.clip), crop=self.preprocessing.crop)
