"""Sky maps."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd


def split_sky_map(
    table: pd.DataFrame, nside: int, regions: np.ndarray | None = None, region_nside: int = 8
) -> matplotlib.figure.Figure:
    """Mollweide map (healpy projection) of the pixels coloured by split, positives marked,
    the coarse regions held out whole for the test outlined.

    RA increases to the left (the astronomical convention); drawn without pyplot.

    Parameters
    ----------
    table : pandas.DataFrame
        ``objects_split``: ``healpix`` (NESTED), ``split``, ``label``, ``ra``, ``dec`` (deg).
    nside : int
        HEALPix resolution of ``healpix``.
    regions : numpy.ndarray, optional
        Held-out coarse pixels (NESTED, at ``region_nside``).
    region_nside : int
        Their resolution.
    """
    import healpy

    proj = healpy.projector.MollweideProj(xsize=1200, flipconv="astro")
    outline = proj.projmap(np.zeros(12), lambda x, y, z: healpy.vec2pix(1, x, y, z))
    fig = matplotlib.figure.Figure(figsize=(12, 6.8))
    ax = fig.add_subplot()
    ax.imshow(
        np.where(np.isfinite(outline), 0.12, np.nan),
        origin="lower",
        extent=proj.get_extent(),
        cmap="Greys",
        vmin=0,
        vmax=1,
    )
    _graticule(ax, proj)
    placed = table[table["split"] != ""]
    colours = {"train": "#4477aa", "val": "#ee7733", "test": "#228833"}
    for split, colour in colours.items():
        pix = np.unique(placed.loc[placed["split"] == split, "healpix"].to_numpy())
        lon, lat = healpy.pix2ang(nside, pix, nest=True, lonlat=True)
        x, y = proj.ang2xy(lon, lat, lonlat=True)
        n = int((placed["split"] == split).sum())
        ax.scatter(
            x,
            y,
            s=9,
            marker="s",
            c=colour,
            linewidths=0,
            label=f"{split}: {n} objects in {pix.size} pixels",
        )
    pos = table[table["label"] == 1]
    x, y = proj.ang2xy(pos["ra"].to_numpy(), pos["dec"].to_numpy(), lonlat=True)
    ax.scatter(x, y, s=1.5, c="black", label=f"positives ({len(pos)})")
    if regions is not None and len(regions):
        _outline_pixels(ax, proj, np.asarray(regions, np.int64), region_nside)
        label = f"held out whole for test: {len(regions)} nside-{region_nside} regions"
        ax.plot([], [], color="#aa3377", lw=1.2, label=label)
    ax.legend(loc="lower right", fontsize=8, frameon=False, markerscale=1.5)
    ax.set_axis_off()
    ax.set_title(
        f"region-disjoint split by HEALPix pixel (nside {nside}, NESTED); "
        "Mollweide, RA increasing to the left; graticule every 30 deg",
        fontsize=10,
    )
    return fig


def _outline_pixels(ax: object, proj: object, pixels: np.ndarray, nside: int) -> None:
    """Outline NESTED pixels on the projection, breaking lines that wrap around the map."""
    import healpy

    for pixel in pixels:
        vec = healpy.boundaries(nside, int(pixel), step=8, nest=True)
        lon, lat = healpy.vec2ang(vec.T, lonlat=True)
        x, y = proj.ang2xy(np.append(lon, lon[0]), np.append(lat, lat[0]), lonlat=True)
        breaks = np.flatnonzero(np.abs(np.diff(x)) > 0.5) + 1
        for xs, ys in zip(np.split(x, breaks), np.split(y, breaks), strict=True):
            ax.plot(xs, ys, color="#aa3377", lw=1.2, zorder=3)


def _graticule(ax: object, proj: object, step_deg: float = 30.0) -> None:
    """RA and Dec lines every ``step_deg`` with their labels (RA along the equator, Dec
    at the map's left edge), drawn through the projection so they bend with it."""
    style = {"color": "0.55", "lw": 0.5, "zorder": 1}
    dec = np.linspace(-89.5, 89.5, 181)
    for ra in np.arange(-180.0 + step_deg, 180.0, step_deg):
        x, y = proj.ang2xy(np.full_like(dec, ra), dec, lonlat=True)
        ax.plot(x, y, **style)
        xe, ye = proj.ang2xy(ra, 0.0, lonlat=True)
        ax.text(xe, ye, f"{ra % 360:.0f}", fontsize=7, color="0.35", ha="left", va="bottom")
    ra_line = np.linspace(-179.9, 179.9, 361)
    for d in np.arange(-90.0 + step_deg, 90.0, step_deg):
        x, y = proj.ang2xy(ra_line, np.full_like(ra_line, d), lonlat=True)
        ax.plot(x, y, **style)
        xe, ye = proj.ang2xy(179.9, d, lonlat=True)
        ax.text(xe, ye, f"{d:+.0f}", fontsize=7, color="0.35", ha="right", va="center")
