"""stronglens-calibration: a strong-lens finder for DESI Legacy Surveys DR10 cutouts."""

__version__ = "0.1.0"

#: Band order of every stamp in the project (ARCHITECTURE.md §3).
BANDS: tuple[str, ...] = ("g", "r", "z")
#: DR10 pixel scale in arcsec per pixel.
PIXEL_SCALE_ARCSEC: float = 0.262
#: AB zero point of nanomaggies: m = 22.5 - 2.5 log10(flux / nanomaggy).
NANOMAGGY_ZEROPOINT: float = 22.5
