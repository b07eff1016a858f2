"""The mock survey's example figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.figure
import numpy as np
import pandas as pd

from stronglens_calibration.mock.config import MockSurveyConfig
from stronglens_calibration.mock.files import cutout_filename
from stronglens_calibration.stamps.display import azimuthal_median_residual, rgb_composite
from stronglens_calibration.stamps.formats import decode_stamp
from stronglens_calibration.stamps.geometry import centre_crop


def mock_examples_figure(
    truth: pd.DataFrame, cutouts: Mapping[str, Callable[[], bytes]], cfg: MockSurveyConfig
) -> matplotlib.figure.Figure:
    """A grid of example lenses (top row), the same lenses with their azimuthal median
    subtracted (so that faint arcs show), confusers and ordinary galaxies as g, r, z
    composites.

    The stamps are read back from the written files with the same decoder ingest uses.

    Parameters
    ----------
    truth : pandas.DataFrame
        The population table (``mock_truth``).
    cutouts : Mapping
        File name to a callable returning the file's bytes.
    cfg : MockSurveyConfig
        Validated parameters (``example_grid``).
    """
    n = cfg.example_grid["n_per_class"]
    crop = cfg.example_grid["crop"]
    rng = np.random.default_rng([cfg.seed, 9])
    full_depth = np.all([truth[f"nobs_{b}"] > 0 for b in cfg.stamp.bands], axis=0)
    own_file = truth["file_format"].isin(["fits", "npz_cutout", "npz_bands"])
    clean = truth[(truth["defect"] == "") & own_file & full_depth]
    lenses = clean[clean["kind"] == "lens"]
    galaxies = clean[clean["kind"] == "galaxy"]
    confusers = galaxies[galaxies["confuser"] != ""]
    plain = galaxies[galaxies["confuser"] == ""]
    picks = [
        ("lens", lenses.iloc[rng.choice(len(lenses), min(n, len(lenses)), replace=False)]),
        (
            "confuser",
            confusers.iloc[rng.choice(len(confusers), min(n, len(confusers)), replace=False)],
        ),
        ("galaxy", plain.iloc[rng.choice(len(plain), min(n, len(plain)), replace=False)]),
    ]
    # the lenses again with their round light subtracted: the arcs of real DR10 lenses are
    # faint beside the galaxy, and so are the mock's
    picks.insert(1, ("residual", picks[0][1]))
    fig = matplotlib.figure.Figure(figsize=(2.0 * n, 2.25 * len(picks)))
    axes = fig.subplots(len(picks), n, squeeze=False)
    for row_axes, (label, rows) in zip(axes, picks, strict=True):
        for ax in row_axes:
            ax.set_axis_off()
        for ax, rec in zip(row_axes, rows.to_dict("records"), strict=False):
            name = cutout_filename(rec)
            stamp = decode_stamp(cutouts[name](), name).pixels
            if label == "residual":
                stamp = azimuthal_median_residual(stamp)
            stamp = centre_crop(stamp, min(crop, stamp.shape[-1]))
            # the residual at a 3x harder stretch: what is left is near the sky level
            stretch = cfg.example_grid["lupton_stretch"] / (3.0 if label == "residual" else 1.0)
            ax.imshow(rgb_composite(stamp, cfg.example_grid["lupton_q"], stretch), origin="lower")
            if label == "residual":
                title = "the same, round light\nsubtracted (3x stretch)"
            elif label == "lens":
                title = (
                    f'tier {rec["tier"]}  θE={rec["theta_e"]:.1f}"\nr_arc={rec["lensed_mag_r"]:.1f}'
                )
            elif label == "confuser":
                title = f"non-lens: {rec['confuser']}\nr={rec['mag_r']:.1f}"
            else:
                title = f"non-lens\nr={rec['mag_r']:.1f}"
            ax.set_title(title, fontsize=8)
    size = min(crop, cfg.stamp.size) * cfg.stamp.pixel_scale
    fig.suptitle(
        "mock DR10 survey: lenses (top; below them minus their azimuthal median per 1-px "
        f'ring), confusers, ordinary galaxies; {size:.1f}" stamps, g,r,z Lupton composites',
        fontsize=10,
    )
    return fig
