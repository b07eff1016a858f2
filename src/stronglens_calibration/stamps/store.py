"""Finding each object's cutout and filling the stamp store shard by shard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.formats import StampDecodeError, decode_stamp

#: Partition name of shard ``i`` of the stamp store.
SHARD_FORMAT = "part-{:05d}"


@dataclass(frozen=True)
class StagedPartition:
    """A partition already written elsewhere on the dataset's filesystem (by a Spark
    executor): saving moves the file into place (a rename locally, a server-side copy
    on S3) instead of passing its bytes through the driver.

    Attributes
    ----------
    path : str
        Full path or URI of the staged file.
    """

    path: str


def shard_name(index: int) -> str:
    """Partition name of shard ``index`` (``part-00000``)."""
    return SHARD_FORMAT.format(index)


def assign_shards(found: np.ndarray, shard_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Shard and offset of each object with a cutout, in table order; -1 for the others."""
    if shard_size < 1:
        raise ValueError(f"'shard_size' must be >= 1, got {shard_size}")
    rank = np.cumsum(found) - 1
    shard = np.where(found, rank // shard_size, -1).astype(np.int32)
    offset = np.where(found, rank % shard_size, -1).astype(np.int32)
    return shard, offset


@dataclass(frozen=True)
class StampChecks:
    """What a decoded cutout's own header must agree with.

    Attributes
    ----------
    centre_tolerance_arcsec : float
        Largest separation between the header's centre pixel (FITS WCS, NPZ
        ``meta_ra``/``meta_dec``) and the object.
    pixel_scale : float
        Expected arcsec per pixel.
    pixel_scale_tolerance : float
        Largest relative difference of the header's pixel scale.
    """

    centre_tolerance_arcsec: float
    pixel_scale: float
    pixel_scale_tolerance: float

    def problem(self, meta: dict[str, Any], ra: float, dec: float) -> str:
        """Why the stamp does not belong to the object at ``(ra, dec)`` (deg), or ``""``."""
        from stronglens_calibration.sky.matching import separation_arcsec

        scale = meta.get("pixel_scale")
        if scale is not None and abs(scale / self.pixel_scale - 1) > self.pixel_scale_tolerance:
            return f'pixel scale {scale:.3f}"/px (expected {self.pixel_scale}"/px)'
        if "centre_ra" in meta and "centre_dec" in meta and np.isfinite([ra, dec]).all():
            sep = float(separation_arcsec(meta["centre_ra"], meta["centre_dec"], ra, dec)[0])
            if sep > self.centre_tolerance_arcsec:
                return (
                    f'centre {sep:.1f}" from the object (tolerance {self.centre_tolerance_arcsec}")'
                )
        return ""


#: The position a cutout is expected to show: ``(ra, dec)`` in deg, and the checks.
Expectation = tuple[float, float, StampChecks]


def decode_cutout(
    data: bytes, name: str, size: int, expect: Expectation | None = None
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Decode one cutout into the contract's ``(3, size, size)`` float32, or say why not.

    With ``expect``, the file's header must agree with the object (centre within the
    tolerance, pixel scale): a mismatch is a reason, never a silent read.

    Returns
    -------
    pixels : numpy.ndarray or None
        float32 ``(3, size, size)`` g, r, z in nanomaggies; a band absent from the file is
        NaN. ``None`` when the file cannot be used.
    info : dict
        ``reader``, ``bands_present`` and ``cutout_error`` (``""`` when readable).
    """
    try:
        stamp = decode_stamp(data, name)
    except StampDecodeError as exc:
        return None, {"reader": "", "bands_present": "", "cutout_error": exc.reason}
    info = {"reader": stamp.reader, "bands_present": stamp.bands_present, "cutout_error": ""}
    if stamp.pixels.shape != (len(BANDS), size, size):
        info["cutout_error"] = f"wrong shape {tuple(stamp.pixels.shape[1:])}"
        return None, info
    if expect is not None:
        problem = expect[2].problem(stamp.meta, expect[0], expect[1])
        if problem:
            info["cutout_error"] = problem
            return None, info
    return stamp.pixels, info


#: Where a cutout's bytes come from: a loader (a Kedro partition's ``load``), the bytes
#: themselves (a parquet row, read once by the caller), or a URI (fetched by the service).
Source = tuple[str, Any]


def read_source(source: Source) -> bytes:
    """The bytes of a cutout from its :data:`Source`."""
    kind, value = source
    if kind == "loader":
        return value()
    if kind == "bytes":
        return value
    if kind == "uri":
        import fsspec

        with fsspec.open(value, "rb") as f:
            return f.read()
    raise ValueError(f"unknown cutout source kind {kind!r}")


def decode_into(
    out: np.ndarray,
    slots: list[int],
    sources: list[Source],
    names: list[str],
    size: int,
    expects: list[Expectation | None] | None = None,
) -> list[dict[str, Any]]:
    """Read and decode cutouts into ``out[slot]``; unusable ones leave NaN there.

    Parameters
    ----------
    out : numpy.ndarray
        float32 ``(n, 3, size, size)`` to fill (g, r, z, nanomaggies per pixel).
    slots, sources, names : list
        Row of ``out``, where the bytes come from, and the file name (format by extension).
    size : int
        Expected stamp side in pixels.
    expects : list, optional
        Per item, the object the header must agree with (:func:`decode_cutout`).

    Returns
    -------
    list of dict
        ``reader``, ``bands_present`` and ``cutout_error`` per item.
    """
    infos = []
    expects = expects if expects is not None else [None] * len(slots)
    for slot, source, name, expect in zip(slots, sources, names, expects, strict=True):
        try:
            data = read_source(source)
        except OSError as exc:
            out[slot] = np.nan
            infos.append(
                {"reader": "", "bands_present": "", "cutout_error": f"unreadable file ({exc})"}
            )
            continue
        pixels, info = decode_cutout(data, name, size, expect)
        out[slot] = np.nan if pixels is None else pixels
        infos.append(info)
    return infos


def _decode_shared(
    shm_name: str,
    shape: tuple[int, ...],
    slots: list[int],
    sources: list[Source],
    names: list[str],
    size: int,
    expects: list[Expectation | None],
) -> list[dict[str, Any]]:
    """Worker task: decode into a shared-memory block (no pixels cross the pipe)."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(name=shm_name)
    try:
        out = np.ndarray(shape, dtype=np.float32, buffer=shm.buf)
        return decode_into(out, slots, sources, names, size, expects)
    finally:
        del out
        shm.close()


class CutoutDecoder:
    """Decodes one shard at a time, in worker processes that read the files themselves.

    The workers write the pixels into shared memory, so only file names and small
    records cross process boundaries; ``n_workers == 1`` decodes in this process.
    """

    def __init__(self, n_workers: int, size: int) -> None:
        self._size = size
        self._workers = n_workers
        self._pool = None
        if n_workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                n_workers, mp_context=multiprocessing.get_context("spawn")
            )

    def __enter__(self) -> CutoutDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def submit(
        self,
        sources: list[Source],
        names: list[str],
        expects: list[Expectation | None] | None = None,
    ) -> Callable[[], tuple[np.ndarray, list[dict]]]:
        """Start decoding a shard; call the returned function for ``(stamps, infos)``.

        With workers, the next shard can be submitted before this one is collected, so
        the workers decode while the caller writes the previous shard.
        """
        n = len(sources)
        expects = expects if expects is not None else [None] * n
        shape = (n, len(BANDS), self._size, self._size)
        if self._pool is None or n < 2 * self._workers:

            def serial() -> tuple[np.ndarray, list[dict]]:
                out = np.empty(shape, dtype=np.float32)
                return out, decode_into(out, list(range(n)), sources, names, self._size, expects)

            return serial
        from multiprocessing import shared_memory

        shm = shared_memory.SharedMemory(create=True, size=int(np.prod(shape)) * 4)
        parts = np.array_split(np.arange(n), self._workers)
        futures = [
            self._pool.submit(
                _decode_shared,
                shm.name,
                shape,
                part.tolist(),
                [sources[i] for i in part],
                [names[i] for i in part],
                self._size,
                [expects[i] for i in part],
            )
            for part in parts
        ]

        def collect() -> tuple[np.ndarray, list[dict]]:
            try:
                infos = [info for fut in futures for info in fut.result()]
                stamps = np.ndarray(shape, dtype=np.float32, buffer=shm.buf).copy()
            finally:
                shm.close()
                shm.unlink()
            return stamps, infos

        return collect

    def decode(
        self,
        sources: list[Source],
        names: list[str],
        expects: list[Expectation | None] | None = None,
    ) -> tuple[np.ndarray, list[dict]]:
        """Stamps float32 ``(n, 3, size, size)`` and one info record per source."""
        return self.submit(sources, names, expects)()
