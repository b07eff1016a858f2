"""Stamp file formats: Legacy Survey cutout-service FITS and the older NPZ layouts.

Every decoder returns the stamp in the project's contract: float32 ``(3, H, W)`` in band
order g, r, z, nanomaggies per pixel; a band absent from the file is a plane of NaN and
is listed in ``missing_bands`` (never zero-filled).
"""

from __future__ import annotations

import gzip
import io
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stronglens_calibration import BANDS


class StampDecodeError(ValueError):
    """A stamp file that cannot be read; ``reason`` is a short quarantine reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


#: Default cap on what one cutout may decode to (bytes): a DR10 grz stamp of 101 x 101
#: float32 pixels is 122 kB, one of 512 x 512 with inverse-variance planes 6 MB.
DEFAULT_MAX_DECODED_BYTES = 256 * 2**20


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.0f} MiB"


def _check_decoded_size(n_bytes: int, cap: int, what: str) -> None:
    """Refuse content that would decode to more than ``cap`` bytes, before decoding it."""
    if n_bytes > cap:
        raise StampDecodeError(
            "oversize content",
            f"{what} declares {_mib(n_bytes)}, more than the {_mib(cap)} cap on a decoded cutout",
        )


def _gunzip(data: bytes, cap: int) -> bytes:
    """Decompress gzip data, reading at most ``cap`` bytes of output (a file that inflates
    further is refused, never inflated in memory)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(cap + 1)
    except (OSError, EOFError) as exc:
        raise StampDecodeError("truncated file", f"gzip: {exc}") from exc
    if len(out) > cap:
        raise StampDecodeError(
            "oversize content", f"gzip data inflates to more than the {_mib(cap)} cap"
        )
    return out


def _declared_hdu_bytes(header: Any) -> int:
    """Bytes of data an HDU's header declares (``|BITPIX| / 8 x prod(NAXISn) + PCOUNT``;
    a tile-compressed image's header gives the uncompressed image)."""
    naxis = int(header.get("NAXIS", 0) or 0)
    if naxis == 0:
        return 0
    size = abs(int(header.get("BITPIX", 8) or 8)) // 8
    for i in range(1, naxis + 1):
        size *= int(header.get(f"NAXIS{i}", 0) or 0)
    return size + int(header.get("PCOUNT", 0) or 0)


@dataclass
class DecodedStamp:
    """A stamp read from a file.

    Attributes
    ----------
    pixels : numpy.ndarray
        float32 ``(3, H, W)``, band order g, r, z, nanomaggies per pixel.
    bands_present : str
        Bands found in the file, e.g. ``"grz"`` or ``"gr"``.
    reader : str
        ``fits``, ``npz_cutout`` or ``npz_bands``.
    meta : dict
        Scalars from the file (FITS header cards or NPZ ``meta_*`` keys).
    """

    pixels: np.ndarray
    bands_present: str
    reader: str
    meta: dict = field(default_factory=dict)

    @property
    def missing_bands(self) -> str:
        """Bands of the contract absent from the file."""
        return "".join(b for b in BANDS if b not in self.bands_present)


def _check_stamp(stamp: np.ndarray, bands: str) -> np.ndarray:
    stamp = np.asarray(stamp)
    if stamp.ndim != 3 or stamp.shape[0] != len(bands):
        raise ValueError(f"'stamp' must be (len(bands), H, W), got {stamp.shape} for {bands!r}")
    unknown = [b for b in bands if b not in BANDS]
    if unknown:
        raise ValueError(f"'bands' has unknown band(s) {unknown}")
    return stamp.astype(np.float32, copy=False)


def encode_fits(
    stamp: np.ndarray, bands: str, ra_deg: float, dec_deg: float, pixel_scale: float
) -> bytes:
    """A cutout-service FITS file: primary HDU float32 ``(B, H, W)``, TAN WCS, ``BANDS``.

    Parameters
    ----------
    stamp : numpy.ndarray
        ``(B, H, W)`` nanomaggies per pixel, bands in ``bands`` order.
    bands : str
        Band letters, e.g. ``"grz"``.
    ra_deg, dec_deg : float
        Position of the centre pixel, ICRS degrees.
    pixel_scale : float
        arcsec per pixel.
    """
    from astropy.io import fits

    stamp = _check_stamp(stamp, bands)
    _, h, w = stamp.shape
    hdu = fits.PrimaryHDU(stamp)
    hdr = hdu.header
    hdr["CTYPE1"], hdr["CTYPE2"] = "RA---TAN", "DEC--TAN"
    hdr["CRVAL1"], hdr["CRVAL2"] = float(ra_deg), float(dec_deg)
    hdr["CRPIX1"], hdr["CRPIX2"] = w // 2 + 1.0, h // 2 + 1.0
    hdr["CD1_1"], hdr["CD1_2"] = -pixel_scale / 3600.0, 0.0
    hdr["CD2_1"], hdr["CD2_2"] = 0.0, pixel_scale / 3600.0
    hdr["BANDS"] = (bands, "Bands in the cube, in order")
    for i, b in enumerate(bands):
        hdr[f"BAND{i}"] = b
    hdr["BUNIT"] = "nanomaggy"
    buf = io.BytesIO()
    hdu.writeto(buf)
    return buf.getvalue()


def encode_npz_cutout(stamp: np.ndarray, bands: str, meta: dict[str, float | str]) -> bytes:
    """The older NPZ layout: key ``cutout`` ``(H, W, B)`` float32 plus ``meta_<key>`` scalars."""
    stamp = _check_stamp(stamp, bands)
    arrays = {"cutout": np.ascontiguousarray(np.moveaxis(stamp, 0, -1))}
    arrays["meta_bandset"] = np.array(bands)
    for k, v in meta.items():
        arrays[f"meta_{k}"] = np.array(v)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def encode_npz_bands(stamp: np.ndarray, bands: str) -> bytes:
    """The per-band NPZ layout: keys ``image_<band>``, each ``(H, W)`` float32."""
    stamp = _check_stamp(stamp, bands)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"image_{b}": stamp[i] for i, b in enumerate(bands)})
    return buf.getvalue()


def _assemble(planes: dict[str, np.ndarray], reader: str, meta: dict) -> DecodedStamp:
    if not planes:
        raise StampDecodeError("no band", f"{reader} file holds none of the bands {BANDS}")
    shapes = {p.shape for p in planes.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise StampDecodeError("wrong shape", f"band planes of shapes {sorted(shapes)}")
    h, w = next(iter(shapes))
    pixels = np.full((len(BANDS), h, w), np.nan, dtype=np.float32)
    for i, b in enumerate(BANDS):
        if b in planes:
            pixels[i] = planes[b]
    present = "".join(b for b in BANDS if b in planes)
    return DecodedStamp(pixels, present, reader, meta)


def _image_hdu(hdul: Any) -> Any:
    """The HDU holding the cutout: the primary when it has data (plain, ``&invvar``,
    ``&maskbits``), else the one image extension (fpack); several image extensions are
    a ``&subimage`` answer (one HDU per brick and band), which is not a stamp."""
    if hdul[0].data is not None:
        return hdul[0]
    images = [h for h in hdul[1:] if getattr(h, "is_image", False) and h.data is not None]
    if len(images) == 1:
        return images[0]
    if len(images) > 1:
        raise StampDecodeError(
            "subimage cutout",
            f"{len(images)} image HDUs (one per brick and band); request the cutout "
            "without '&subimage'",
        )
    raise StampDecodeError("no image", "no HDU holds an image")


def _band_order(header: Any, n_planes: int) -> str:
    """Bands of the planes from ``BANDS``, else ``BAND0`` .. ``BAND<n-1>``."""
    bands = str(header.get("BANDS", "")).strip()
    if not bands and all(f"BAND{i}" in header for i in range(n_planes)):
        bands = "".join(str(header[f"BAND{i}"]).strip() for i in range(n_planes))
    if not bands:
        raise StampDecodeError(
            "unknown bands", f"{n_planes} planes and neither BANDS nor BAND0..n in the header"
        )
    return bands


def _header_geometry(header: Any, shape: tuple[int, int]) -> dict[str, float]:
    """Pixel scale (arcsec per pixel) and the sky position of the centre pixel
    ``(H // 2, W // 2)`` from the header's celestial WCS; empty without one."""
    from astropy.wcs import WCS, FITSFixedWarning

    if "CTYPE1" not in header or "CTYPE2" not in header:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header, naxis=2).celestial
    if not wcs.has_celestial:
        return {}
    h, w = shape
    ra, dec = wcs.pixel_to_world_values(w // 2, h // 2)
    scale = float(np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix))) * 3600.0)
    return {"centre_ra": float(ra), "centre_dec": float(dec), "pixel_scale": scale}


def decode_fits(data: bytes, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> DecodedStamp:
    """Read a cutout-service FITS file: plain, gzip-compressed (``.fits.gz``) or
    fpack-compressed (``.fits.fz``), with the planes in the header's band order.

    ``meta`` holds the header's ``pixel_scale`` (arcsec per pixel) and the sky position of
    the centre pixel (``centre_ra``, ``centre_dec``, deg) when it has a celestial WCS.
    A file that decompresses, or whose headers declare data, beyond ``max_decoded_bytes``
    is refused before its data are read.
    """
    from astropy.io import fits
    from astropy.utils.exceptions import AstropyUserWarning

    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, max_decoded_bytes)
    try:
        with warnings.catch_warnings():
            # astropy only warns about a short or malformed file; here that is an error
            warnings.simplefilter("error", AstropyUserWarning)
            warnings.simplefilter("error", fits.verify.VerifyWarning)
            with fits.open(io.BytesIO(data), memmap=False) as hdul:
                hdul.verify("exception")
                declared = sum(_declared_hdu_bytes(h.header) for h in hdul)
                _check_decoded_size(declared, max_decoded_bytes, "the FITS file")
                hdu = _image_hdu(hdul)
                header = hdu.header.copy()
                cube = np.array(hdu.data, dtype=np.float32)
    except StampDecodeError:
        raise
    except (OSError, ValueError, TypeError, IndexError, Warning) as exc:
        reason = "truncated file" if "truncated" in str(exc).lower() else "corrupt FITS"
        raise StampDecodeError(reason, str(exc)) from exc
    if cube.ndim == 2:
        cube = cube[None]
    if cube.ndim != 3:
        raise StampDecodeError("wrong shape", f"FITS data of shape {cube.shape}")
    bands = _band_order(header, cube.shape[0])
    if len(bands) != cube.shape[0]:
        raise StampDecodeError("wrong shape", f"BANDS={bands!r} but {cube.shape[0]} planes")
    meta: dict[str, Any] = {k: header[k] for k in ("CRVAL1", "CRVAL2") if k in header}
    meta |= _header_geometry(header, cube.shape[1:])
    return _assemble({b: cube[i] for i, b in enumerate(bands) if b in BANDS}, "fits", meta)


def _npz_geometry(meta: dict[str, Any]) -> dict[str, float]:
    """``centre_ra``, ``centre_dec`` and ``pixel_scale`` from NPZ ``meta_*`` scalars
    (``ra``/``dec``, ``pixscale``/``pixel_scale``), where present."""
    out: dict[str, float] = {}
    try:
        if "ra" in meta and "dec" in meta:
            out["centre_ra"], out["centre_dec"] = float(meta["ra"]), float(meta["dec"])
        for key in ("pixel_scale", "pixscale"):
            if key in meta:
                out["pixel_scale"] = float(meta[key])
                break
    except (TypeError, ValueError):
        return {}
    return out


def decode_npz(data: bytes, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> DecodedStamp:
    """Read either NPZ layout (``cutout`` HWC with ``meta_*``, or ``image_<band>``).

    An archive whose members declare more than ``max_decoded_bytes`` in all is refused
    before any member is inflated.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
        _check_decoded_size(declared, max_decoded_bytes, "the NPZ archive")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            keys = set(npz.files)
            meta = {k[5:]: npz[k].item() for k in keys if k.startswith("meta_")}
            meta |= _npz_geometry(meta)
            if "cutout" in keys:
                cube = np.asarray(npz["cutout"], dtype=np.float32)
                bands = str(meta.get("bandset", "".join(BANDS)))
                if cube.ndim != 3 or cube.shape[-1] != len(bands):
                    raise StampDecodeError("wrong shape", f"cutout of shape {cube.shape}")
                planes = {b: cube[..., i] for i, b in enumerate(bands) if b in BANDS}
                return _assemble(planes, "npz_cutout", meta)
            planes = {
                b: np.asarray(npz[f"image_{b}"], dtype=np.float32)
                for b in BANDS
                if f"image_{b}" in keys
            }
            return _assemble(planes, "npz_bands", meta)
    except StampDecodeError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        reason = (
            "truncated file" if isinstance(exc, EOFError | zipfile.BadZipFile) else "corrupt NPZ"
        )
        raise StampDecodeError(reason, str(exc)) from exc


@dataclass(frozen=True)
class CutoutFormat:
    """One cutout file format: how it is named, recognised, read and written.

    Attributes
    ----------
    name : str
        Short name (``fits``, ``npz``).
    suffixes : tuple of str
        Lower-case file-name endings, longest first where they overlap.
    decode : callable
        ``decode(data: bytes, max_decoded_bytes: int) -> DecodedStamp``; raises
        :class:`StampDecodeError` (reason ``oversize content`` for data that would decode
        to more than ``max_decoded_bytes``).
    identify : callable
        ``identify(data: bytes) -> bool`` from the first bytes (magic numbers).
    encoders : tuple of callable
        Writers of this format (for the mock survey and tests).
    """

    name: str
    suffixes: tuple[str, ...]
    decode: Callable[[bytes, int], DecodedStamp]
    identify: Callable[[bytes], bool]
    encoders: tuple[Callable[..., bytes], ...] = ()


#: The registry of cutout formats: the one table that ingest, the cutout index and the
#: decoders consult (a format registered here is found, indexed and decoded everywhere).
CUTOUT_FORMATS: dict[str, CutoutFormat] = {}


def register_format(fmt: CutoutFormat) -> None:
    """Add a cutout format (its suffixes must be new)."""
    taken = {s for f in CUTOUT_FORMATS.values() for s in f.suffixes}
    clash = sorted(set(fmt.suffixes) & taken)
    if clash:
        raise ValueError(f"cutout format {fmt.name!r}: suffix(es) {clash} already registered")
    CUTOUT_FORMATS[fmt.name] = fmt


register_format(
    CutoutFormat(
        "fits",
        (".fits.fz", ".fits.gz", ".fits", ".fit"),
        decode_fits,
        lambda data: data[:9] == b"SIMPLE  =",
        (encode_fits,),
    )
)
register_format(
    CutoutFormat(
        "npz",
        (".npz",),
        decode_npz,
        lambda data: data[:4] == b"PK\x03\x04",
        (encode_npz_cutout, encode_npz_bands),
    )
)


def split_name(filename: str) -> tuple[str, CutoutFormat] | None:
    """``(stem, format)`` of a cutout file name by its suffix, or ``None`` when no
    registered format claims it."""
    base = filename.rsplit("/", 1)[-1]
    lower = base.lower()
    matches = [
        (len(suffix), suffix, fmt)
        for fmt in CUTOUT_FORMATS.values()
        for suffix in fmt.suffixes
        if lower.endswith(suffix)
    ]
    if not matches:
        return None
    _, suffix, fmt = max(matches, key=lambda m: m[0])
    return base[: -len(suffix)], fmt


def decode_stamp(
    data: bytes, filename: str, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES
) -> DecodedStamp:
    """Decode a stamp file with the registered format its name ends in, refusing content
    that would decode to more than ``max_decoded_bytes``."""
    if not data:
        raise StampDecodeError("empty file", filename)
    found = split_name(filename)
    if found is None:
        raise StampDecodeError("unknown format", filename)
    fmt = found[1]
    if not fmt.identify(data):
        other = [f.name for f in CUTOUT_FORMATS.values() if f is not fmt and f.identify(data)]
        if other:
            raise StampDecodeError("wrong format", f"{filename} holds {other[0]} data")
    return fmt.decode(data, max_decoded_bytes)
