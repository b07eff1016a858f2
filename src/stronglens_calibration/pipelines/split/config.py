"""The ``split`` pipeline's parameters: one typed schema of ``params:split``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from stronglens_calibration.parameter_schema import (
    Fraction,
    Int,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Str,
    Tiers,
    tier_names,
)

#: The splits, in the order of their target fractions.
SPLITS: tuple[str, ...] = ("train", "val", "test")


class Fractions(Section):
    """Target fraction of the objects per split (summing to 1)."""

    train: Fraction
    val: Fraction
    test: Fraction


class Overlap(Section):
    """Objects whose stamps overlap share a split: half the stamp diagonal apart."""

    stamp_size: PositiveInt
    pixel_scale: PositiveFloat
    rule: Literal["drop_from_smaller_split"]


class Matching(Section):
    """How negatives are matched to positives: method, columns, quantile bins."""

    method: Literal["none", "reweight", "subsample"]
    variables: tuple[Str, ...]
    n_bins: PositiveInt


class RegionHoldout(Section):
    """Whole coarse pixels (NESTED ``nside``) held out for the test split, holding
    ``fraction`` of the objects (0: none)."""

    nside: PositiveInt
    fraction: Fraction


class SplitConfig(Section):
    """``params:split``.

    Attributes
    ----------
    nside, seed : int
        HEALPix resolution (NESTED, a power of two) and the key of the pixel hash.
    engine : str
        ``pandas`` or ``spark``.
    fractions : Fractions
        Target fraction per split.
    tolerance : float
        Largest ``|actual - target|`` per split, class and tier ...
    min_class_size_enforced : int
        ... for groups of at least this many objects.
    overlap, matching, region_holdout
        The sub-sections.
    tiers : dict
        lenscat grading to tier; the tiers are reported separately.
    """

    nside: PositiveInt
    seed: Int
    engine: Literal["pandas", "spark"]
    fractions: Fractions
    tiers: Tiers
    tolerance: Fraction
    min_class_size_enforced: NonNegativeInt
    overlap: Overlap
    matching: Matching
    region_holdout: RegionHoldout

    @model_validator(mode="after")
    def _consistent(self) -> SplitConfig:
        total = sum(self.targets.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"parameter 'split.fractions' must sum to 1, got {total:.6f} ({self.targets})"
            )
        if self.nside & (self.nside - 1):
            raise ValueError(f"parameter 'split.nside' must be a power of two, got {self.nside}")
        coarse = self.region_holdout.nside
        if coarse & (coarse - 1) or coarse > self.nside:
            raise ValueError(
                f"parameter 'split.region_holdout.nside' must be a power of two no finer than "
                f"split.nside ({self.nside}), got {coarse}"
            )
        if self.region_holdout.fraction >= self.fractions.test:
            raise ValueError(
                f"parameter 'split.region_holdout.fraction' ({self.region_holdout.fraction}) "
                f"must be below the test fraction ({self.fractions.test}): the held-out "
                "regions are part of the test split"
            )
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SplitConfig:
        """Validate ``params:split``."""
        return cls.parse(params, "split")

    @property
    def targets(self) -> dict[str, float]:
        """Target fraction per split, in :data:`SPLITS` order."""
        return {name: float(getattr(self.fractions, name)) for name in SPLITS}

    @property
    def tier_names(self) -> tuple[str, ...]:
        """The positives' tiers, most confident first."""
        return tier_names(self.tiers)

    @property
    def overlap_radius_arcsec(self) -> float:
        """Objects closer than this (half the stamp diagonal) must share a split."""
        return self.overlap.stamp_size / 2 * self.overlap.pixel_scale * float(np.sqrt(2))

    def fine_fractions(self, held_out: float) -> dict[str, float]:
        """Target fractions of the fine pixels outside the held-out regions, so that the
        whole sample meets :attr:`targets` when ``held_out`` of it is test already."""
        rest = 1.0 - held_out
        out = {name: f / rest for name, f in self.targets.items()}
        out["test"] = max(self.targets["test"] - held_out, 0.0) / rest
        total = sum(out.values())
        return {name: f / total for name, f in out.items()}
