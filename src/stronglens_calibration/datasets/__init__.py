"""The project's Kedro datasets: raw binary files, FITS tables (sweeps), ``.npy`` shards."""

from stronglens_calibration.datasets.binary_file import BinaryFileDataset
from stronglens_calibration.datasets.fits_table import FITSTableDataset

__all__ = ["BinaryFileDataset", "FITSTableDataset"]
