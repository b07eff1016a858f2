"""The project's Kedro datasets: raw binary files, FITS tables (sweeps), ``.npy`` shards."""

from stronglens_calibration.datasets.binary_file import BinaryFileDataset
from stronglens_calibration.datasets.brick_images import BrickImages, BrickImagesDataset
from stronglens_calibration.datasets.fits_table import FITSTable, FITSTableDataset
from stronglens_calibration.datasets.npy_file import NpyDataset
from stronglens_calibration.datasets.streamed_partitions import (
    StagedPartition,
    StreamedPartitionedDataset,
)
from stronglens_calibration.datasets.torch_model import TorchArtifactDataset

__all__ = [
    "BrickImages",
    "BrickImagesDataset",
    "BinaryFileDataset",
    "FITSTable",
    "FITSTableDataset",
    "NpyDataset",
    "StagedPartition",
    "StreamedPartitionedDataset",
    "TorchArtifactDataset",
]
