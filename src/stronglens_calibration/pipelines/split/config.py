"""The ``split`` pipeline's parameters, validated once into a frozen config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration.checks import ParamReader

#: The splits, in the order of their target fractions.
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class SplitConfig:
    """Validated ``params:split``.

    Attributes
    ----------
    nside, seed : int
        HEALPix resolution (NESTED) and the key of the pixel hash.
    engine : str
        ``pandas`` or ``spark``.
    fractions : dict
        Target fraction per split (summing to 1).
    tolerance : float
        Largest ``|actual - target|`` per split, class and tier ...
    min_class_size_enforced : int
        ... for groups of at least this many objects.
    overlap_radius_arcsec : float
        Objects closer than this (half the stamp diagonal) must share a split.
    matching_method : str
        ``none``, ``reweight`` or ``subsample``.
    matching_variables : tuple of str
        Columns matched between the classes.
    matching_bins : int
        Quantile bins per variable.
    tiers : tuple of str
        The positives' tiers, reported separately.
    region_holdout_nside : int
        Resolution (NESTED) of the coarse pixels held out whole for the test split.
    region_holdout_fraction : float
        Share of the objects in those pixels (part of the test fraction; 0: none).
    """

    nside: int
    seed: int
    engine: str
    fractions: dict[str, float]
    tolerance: float
    min_class_size_enforced: int
    overlap_radius_arcsec: float
    matching_method: str
    matching_variables: tuple[str, ...]
    matching_bins: int
    tiers: tuple[str, ...]
    region_holdout_nside: int
    region_holdout_fraction: float

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SplitConfig:
        p = ParamReader(params, "split")
        f = p.section("fractions")
        fractions = {name: f.fraction(name) for name in SPLITS}
        if abs(sum(fractions.values()) - 1.0) > 1e-9:
            raise ValueError(
                f"parameter 'split.fractions' must sum to 1, got "
                f"{sum(fractions.values()):.6f} ({fractions})"
            )
        o = p.section("overlap")
        o.choice("rule", ["drop_from_smaller_split"])
        m = p.section("matching")
        nside = p.integer("nside", low=1)
        if nside & (nside - 1):
            raise ValueError(f"parameter 'split.nside' must be a power of two, got {nside}")
        r = p.section("region_holdout")
        coarse = r.integer("nside", low=1)
        if coarse & (coarse - 1) or coarse > nside:
            raise ValueError(
                f"parameter 'split.region_holdout.nside' must be a power of two no finer than "
                f"split.nside ({nside}), got {coarse}"
            )
        held = r.fraction("fraction")
        if held >= fractions["test"]:
            raise ValueError(
                f"parameter 'split.region_holdout.fraction' ({held}) must be below the test "
                f"fraction ({fractions['test']}): the held-out regions are part of the test split"
            )
        return cls(
            nside=nside,
            seed=p.integer("seed"),
            engine=p.choice("engine", ["pandas", "spark"]),
            fractions=fractions,
            tolerance=p.fraction("tolerance"),
            min_class_size_enforced=p.integer("min_class_size_enforced", low=0),
            overlap_radius_arcsec=o.integer("stamp_size", low=1)
            / 2
            * o.positive("pixel_scale")
            * np.sqrt(2),
            matching_method=m.choice("method", ["none", "reweight", "subsample"]),
            matching_variables=m.strings("variables"),
            matching_bins=m.integer("n_bins", low=1),
            tiers=tuple(dict.fromkeys(p.tiers("tiers").values())),
            region_holdout_nside=coarse,
            region_holdout_fraction=held,
        )

    def fine_fractions(self, held_out: float) -> dict[str, float]:
        """Target fractions of the fine pixels outside the held-out regions, so that the
        whole sample meets :attr:`fractions` when ``held_out`` of it is test already."""
        rest = 1.0 - held_out
        out = {name: f / rest for name, f in self.fractions.items()}
        out["test"] = max(self.fractions["test"] - held_out, 0.0) / rest
        total = sum(out.values())
        return {name: f / total for name, f in out.items()}
