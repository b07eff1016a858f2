"""Real DR10 figures the mock survey is calibrated and checked against, shipped as small
CSV files beside this module (each file states its source in its header lines)."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def _table(name: str) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, comment="#", skip_blank_lines=True)


def lens_candidate_reference() -> pd.DataFrame:
    """Real DESI lens candidates in DR10 cutouts: ``quantity, band, unit, real_low,
    real_median, real_high, range, definition`` (NaN where not measured)."""
    return _table("dr10_lens_candidates.csv").fillna({"band": ""})


def lrg_photometry() -> pd.DataFrame:
    """Percentiles 5 / 25 / 50 / 75 / 95 of DR10 LRG-like galaxies' magnitudes and
    colours (AB), indexed by quantity."""
    return _table("dr10_lrg_photometry.csv").set_index("quantity")


def lrg_type_fractions() -> pd.Series:
    """Tractor TYPE fractions of DR10 LRG-like galaxies (sum 1)."""
    s = _table("dr10_lrg_types.csv").set_index("type")["fraction"]
    return s / s.sum()
