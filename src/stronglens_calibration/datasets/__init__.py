"""The project's Kedro datasets: raw binary files, FITS tables (sweeps), ``.npy`` shards,
the stamp store and the object tables that commit it."""

from stronglens_calibration.datasets.binary_file import BinaryFileDataset
from stronglens_calibration.datasets.brick_images import BrickImagesDataset
from stronglens_calibration.datasets.fits_table import FITSTableDataset
from stronglens_calibration.datasets.npy_file import NpyDataset
from stronglens_calibration.datasets.object_table import ObjectTableDataset
from stronglens_calibration.datasets.resumable_partitions import ResumablePartitionedDataset
from stronglens_calibration.datasets.stamp_store import StampStoreDataset
from stronglens_calibration.datasets.streamed_partitions import StreamedPartitionedDataset
from stronglens_calibration.datasets.torch_model import TorchArtifactDataset

__all__ = [
    "BrickImagesDataset",
    "BinaryFileDataset",
    "FITSTableDataset",
    "NpyDataset",
    "ObjectTableDataset",
    "ResumablePartitionedDataset",
    "StampStoreDataset",
    "StreamedPartitionedDataset",
    "TorchArtifactDataset",
]
