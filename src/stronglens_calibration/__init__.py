"""stronglens-calibration: a strong-lens finder for DESI Legacy Surveys DR10 cutouts."""

__version__ = "0.1.0"

#: Band order of every stamp in the project (docs/architecture.md).
BANDS: tuple[str, ...] = ("g", "r", "z")
