"""Finding each object's cutout and filling the stamp store shard by shard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglens_calibration import BANDS
from stronglens_calibration.stamps.formats import (
    DEFAULT_MAX_DECODED_BYTES,
    StampDecodeError,
    decode_stamp,
)

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


@dataclass(frozen=True)
class ReadLimits:
    """How large one cutout may be; a larger one is quarantined, never read into memory.

    Attributes
    ----------
    max_file_bytes : int
        Largest cutout file read (checked from the filesystem before the read when the
        source can tell, and on the bytes read otherwise).
    max_decoded_bytes : int
        Largest content a cutout may decode to (gzip output, FITS data declared by the
        headers, NPZ members), checked before decompressing.
    """

    max_file_bytes: int = 64 * 2**20
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_decoded_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1 byte, got {getattr(self, name)}")

    @classmethod
    def from_mib(cls, max_file_mib: float, max_decoded_mib: float) -> ReadLimits:
        """Limits given in MiB (the parameters ``max_file_mib`` and ``max_decoded_mib``)."""
        return cls(int(max_file_mib * 2**20), int(max_decoded_mib * 2**20))


class CutoutReadError(OSError):
    """One cutout whose bytes could not be fetched; ``reason`` is its quarantine reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of a chain (what a Kedro ``DatasetError`` or an fsspec
    wrapper was raised from)."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def read_failure_reason(exc: BaseException) -> str:
    """Quarantine reason for a cutout whose bytes could not be read: the innermost
    error's type and message (``unreadable file (FileNotFoundError), ...``)."""
    cause = root_cause(exc)
    detail = " ".join(str(cause).split())
    return f"unreadable file ({type(cause).__name__})" + (f", {detail}" if detail else "")


def decode_cutout(
    data: bytes,
    name: str,
    size: int,
    expect: Expectation | None = None,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Decode one cutout into the contract's ``(3, size, size)`` float32, or say why not.

    With ``expect``, the file's header must agree with the object (centre within the
    tolerance, pixel scale): a mismatch is a reason, never a silent read. Content that
    would decode to more than ``max_decoded_bytes`` is a reason too (``oversize
    content``), found before it is inflated.

    Returns
    -------
    pixels : numpy.ndarray or None
        float32 ``(3, size, size)`` g, r, z in nanomaggies; a band absent from the file is
        NaN. ``None`` when the file cannot be used.
    info : dict
        ``reader``, ``bands_present`` and ``cutout_error`` (``""`` when readable).
    """
    try:
        stamp = decode_stamp(data, name, max_decoded_bytes)
    except StampDecodeError as exc:
        return None, {"reader": "", "bands_present": "", "cutout_error": exc.reason}
    except MemoryError:
        reason = "too large to decode (MemoryError)"
        return None, {"reader": "", "bands_present": "", "cutout_error": reason}
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


def _oversize(n_bytes: int, cap: int) -> CutoutReadError:
    return CutoutReadError(
        f"oversize file ({n_bytes / 2**20:.1f} MiB, more than the {cap / 2**20:.0f} MiB cap "
        "'max_file_mib')"
    )


def _loader_size(loader: Any) -> int | None:
    """The size of the file behind a dataset's ``load`` (the project's file datasets
    tell it without reading), or ``None``."""
    size = getattr(getattr(loader, "__self__", None), "file_size", None)
    return int(size()) if callable(size) else None


def read_source(source: Source, limits: ReadLimits | None = None) -> bytes:
    """The bytes of a cutout from its :data:`Source`.

    Raises
    ------
    CutoutReadError
        For any failure to fetch this one cutout (a missing or vanished file, a symlink
        loop, permissions, an S3 error, a Kedro ``DatasetError`` around any of them) and
        for a file larger than ``limits.max_file_bytes``; its ``reason`` names the cause.
    """
    limits = limits or ReadLimits()
    kind, value = source
    if kind not in ("loader", "bytes", "uri"):
        raise ValueError(f"unknown cutout source kind {kind!r}")
    try:
        if kind == "bytes":
            data = value
        elif kind == "loader":
            size = _loader_size(value)
            if size is not None and size > limits.max_file_bytes:
                raise _oversize(size, limits.max_file_bytes)
            data = value()
        else:
            import fsspec

            fs, path = fsspec.core.url_to_fs(value)
            size = int(fs.size(path))
            if size > limits.max_file_bytes:
                raise _oversize(size, limits.max_file_bytes)
            data = fs.cat_file(path)
    except CutoutReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure of one file stays that file's
        raise CutoutReadError(read_failure_reason(exc)) from exc
    if len(data) > limits.max_file_bytes:
        raise _oversize(len(data), limits.max_file_bytes)
    return data


def decode_into(
    out: np.ndarray,
    slots: list[int],
    sources: list[Source],
    names: list[str],
    size: int,
    expects: list[Expectation | None] | None = None,
    limits: ReadLimits | None = None,
) -> list[dict[str, Any]]:
    """Read and decode cutouts into ``out[slot]``; unusable ones leave NaN there.

    A cutout that cannot be fetched, is larger than ``limits`` allow or cannot be
    decoded gets its reason in ``cutout_error``; it never stops the other cutouts.

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
    limits : ReadLimits, optional
        File and decoded-size caps (defaults: :class:`ReadLimits`).

    Returns
    -------
    list of dict
        ``reader``, ``bands_present`` and ``cutout_error`` per item.
    """
    infos = []
    limits = limits or ReadLimits()
    expects = expects if expects is not None else [None] * len(slots)
    for slot, source, name, expect in zip(slots, sources, names, expects, strict=True):
        try:
            data = read_source(source, limits)
        except CutoutReadError as exc:
            out[slot] = np.nan
            infos.append({"reader": "", "bands_present": "", "cutout_error": exc.reason})
            continue
        pixels, info = decode_cutout(data, name, size, expect, limits.max_decoded_bytes)
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
    limits: ReadLimits,
) -> list[dict[str, Any]]:
    """Worker task: decode into a shared-memory block (no pixels cross the pipe)."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(name=shm_name)
    try:
        out = np.ndarray(shape, dtype=np.float32, buffer=shm.buf)
        return decode_into(out, slots, sources, names, size, expects, limits)
    finally:
        del out
        shm.close()


class CutoutDecoder:
    """Decodes one shard at a time, in worker processes that read the files themselves.

    The workers write the pixels into shared memory
    (:mod:`~stronglens_calibration.stamps.shared_blocks`), so only file names and small
    records cross process boundaries; ``n_workers == 1`` decodes in this process. Blocks
    not yet collected are released when the decoder closes, whatever the reason; blocks
    of a killed earlier run are removed when a decoder with workers starts.

    Parameters
    ----------
    n_workers : int
        Decoding processes (1: this process).
    size : int
        Stamp side in pixels.
    limits : ReadLimits, optional
        File and decoded-size caps per cutout.
    """

    def __init__(self, n_workers: int, size: int, limits: ReadLimits | None = None) -> None:
        self._size = size
        self._workers = n_workers
        self._limits = limits or ReadLimits()
        self._pool = None
        self._blocks: dict[str, Any] = {}
        if n_workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from stronglens_calibration.stamps.shared_blocks import remove_stale_blocks

            remove_stale_blocks()
            self._pool = ProcessPoolExecutor(
                n_workers, mp_context=multiprocessing.get_context("spawn")
            )

    def __enter__(self) -> CutoutDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        from stronglens_calibration.stamps.shared_blocks import release_block

        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            for block in list(self._blocks.values()):
                release_block(block)
            self._blocks.clear()

    @property
    def open_blocks(self) -> list[str]:
        """Names of the shared-memory blocks not yet collected."""
        return sorted(self._blocks)

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
        limits = self._limits
        if self._pool is None or n < 2 * self._workers:

            def serial() -> tuple[np.ndarray, list[dict]]:
                out = np.empty(shape, dtype=np.float32)
                infos = decode_into(
                    out, list(range(n)), sources, names, self._size, expects, limits
                )
                return out, infos

            return serial
        from stronglens_calibration.stamps.shared_blocks import create_block, release_block

        shm = create_block(int(np.prod(shape)) * 4)
        self._blocks[shm.name] = shm
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
                limits,
            )
            for part in parts
        ]

        def collect() -> tuple[np.ndarray, list[dict]]:
            try:
                infos = [info for fut in futures for info in fut.result()]
                stamps = np.ndarray(shape, dtype=np.float32, buffer=shm.buf).copy()
            finally:
                self._blocks.pop(shm.name, None)
                release_block(shm)
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
