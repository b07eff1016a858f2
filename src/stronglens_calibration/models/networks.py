"""Lens-finder networks: a residual encoder and a single-logit head."""

from __future__ import annotations

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

    def __init__(self, encoder: Encoder, dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(encoder.n_features, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features, ``(n, n_features)``."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n,)`` for stamps ``(n, 3, H, W)`` (preprocessed)."""
        return self.head(self.encoder(x)).squeeze(1)


#: Architectures by name: stage widths and residual blocks per stage.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "compact_resnet": {"widths": (24, 48, 96, 128), "blocks_per_stage": 2},
    "wide_resnet": {"widths": (32, 64, 128, 192), "blocks_per_stage": 3},
}


def build_model(architecture: str, dropout: float = 0.0) -> LensFinder:
    """A lens finder by architecture name (``compact_resnet`` ~0.2 M parameters)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r} (parameter 'train.model.architecture'); "
            f"known: {sorted(ARCHITECTURES)}"
        )
    spec = ARCHITECTURES[architecture]
    return LensFinder(Encoder(spec["widths"], spec["blocks_per_stage"]), dropout)


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
