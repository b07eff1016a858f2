"""Lens-finder networks: a residual encoder and a single-logit head."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """Pre-activation bottleneck residual block (BN-ReLU-conv), optional down-sampling."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        mid = max(c_out // 2, 8)
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_in, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, c_out, 1, bias=False),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class Encoder(nn.Module):
    """Stem plus stages of residual blocks; global average pooling to a feature vector."""

    def __init__(
        self, widths: tuple[int, ...], blocks_per_stage: int, in_channels: int = 3
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)]
        c = widths[0]
        for w in widths:
            for b in range(blocks_per_stage):
                layers.append(ResidualBlock(c, w, stride=2 if b == 0 else 1))
                c = w
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.n_features = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LensFinder(nn.Module):
    """Encoder and a single-logit head (``logit > 0`` means lens)."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder = encoder
        #: ``{"architecture", "arguments"}`` it was built from (set by :func:`build_model`).
        self.network: dict[str, Any] = {}
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(encoder.n_features, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features, ``(n, n_features)``."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n,)`` for stamps ``(n, 3, H, W)`` (preprocessed)."""
        return self.head(self.encoder(x)).squeeze(1)


class BasicBlock(nn.Module):
    """The two-convolution residual block of ResNet-18 (conv-BN-ReLU-conv-BN, then add)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.skip(x))


class ResNet18Encoder(nn.Module):
    """ResNet-18 (He et al. 2016; the layout of torchvision's ``resnet18``: four stages of
    two basic blocks, 64-512 channels) with a stem for 1-2 pixel arcs.

    torchvision's stem (a 7 x 7 convolution of stride 2, then a max-pool) reduces a
    48-pixel input by 4 before the first block, which merges an arc 1-2 pixels wide with
    the lens light; here the stem is a 3 x 3 convolution of stride ``stem_stride`` and no
    pool, so the first stage sees the arcs at the native 0.262" sampling.
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        blocks_per_stage: int = 2,
        stem_stride: int = 1,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        c = widths[0]
        for i, w in enumerate(widths):
            for b in range(blocks_per_stage):
                layers.append(BasicBlock(c, w, stride=2 if b == 0 and i > 0 else 1))
                c = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.n_features = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass(frozen=True)
class NetworkEntry:
    """One network of the registry: an encoder factory and its default arguments.

    Attributes
    ----------
    factory : callable
        Builds the encoder (an ``nn.Module`` with ``n_features``) from keyword arguments.
    arguments : dict
        The factory's arguments; a trained model stores the ones it was built with, so it
        rebuilds exactly even after this table changes.
    summary : str
        One line for users.
    """

    factory: Callable[..., nn.Module]
    arguments: dict[str, Any]
    summary: str


#: Networks by name (``train.model.architecture``).
NETWORKS: dict[str, NetworkEntry] = {
    "compact_resnet": NetworkEntry(
        Encoder,
        {"widths": [24, 48, 96, 128], "blocks_per_stage": 2},
        "bottleneck residual encoder, ~0.2 M parameters (the default)",
    ),
    "wide_resnet": NetworkEntry(
        Encoder,
        {"widths": [32, 64, 128, 192], "blocks_per_stage": 3},
        "wider, deeper bottleneck residual encoder, ~0.6 M parameters",
    ),
    "resnet18": NetworkEntry(
        ResNet18Encoder,
        {"widths": [64, 128, 256, 512], "blocks_per_stage": 2, "stem_stride": 1},
        "ResNet-18 with a stride-1 3 x 3 stem for thin arcs, ~11 M parameters",
    ),
}


def network_arguments(architecture: str) -> dict[str, Any]:
    """The registry's arguments of a network (a copy, plain values only)."""
    if architecture not in NETWORKS:
        raise ValueError(f"unknown 'architecture' {architecture!r}; known: {sorted(NETWORKS)}")
    return {
        k: list(v) if isinstance(v, tuple | list) else v
        for k, v in NETWORKS[architecture].arguments.items()
    }


def build_model(
    architecture: str, dropout: float = 0.0, arguments: dict[str, Any] | None = None
) -> LensFinder:
    """A lens finder by network name.

    Parameters
    ----------
    architecture : str
        A key of :data:`NETWORKS`.
    dropout : float
        Dropout before the head.
    arguments : dict, optional
        The encoder factory's arguments (as stored in a trained model); the registry's
        by default.
    """
    stored = network_arguments(architecture) if arguments is None else dict(arguments)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
    model = LensFinder(NETWORKS[architecture].factory(**args), dropout)
    model.network = {"architecture": architecture, "arguments": stored}
    return model


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
