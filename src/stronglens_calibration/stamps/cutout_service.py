"""Client of the Legacy Surveys cutout service (``fits-cutout``), for objects without a file.

Bounded concurrency, retries with exponential backoff, resume (files already in the cache
are not fetched again), a progress bar, and validation of every answer as a FITS cutout.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from stronglens_calibration.parameter_schema import (
    Bool,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Section,
    Str,
)
from stronglens_calibration.stamps.formats import StampDecodeError, decode_fits
from stronglens_calibration.storage.uri import normalise_uri

logger = logging.getLogger(__name__)

#: HTTP statuses worth another try.
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class CutoutServiceConfig:
    """``params:ingest.cutout_service``."""

    enabled: bool
    url: str
    layer: str
    pixscale: float
    bands: str
    size: int
    max_concurrency: int
    retries: int
    backoff_seconds: float
    timeout_seconds: float
    cache_dir: str

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], size: int, path: str = "cutout_service"
    ) -> CutoutServiceConfig:
        """Validate the service settings (:class:`CutoutService`); errors name
        ``path.<key>``."""
        return CutoutService.parse(params, path).config(size)

    def query(self, ra: float, dec: float) -> str:
        """The request URL for one position."""
        args = {
            "ra": f"{ra:.6f}",
            "dec": f"{dec:.6f}",
            "layer": self.layer,
            "pixscale": f"{self.pixscale}",
            "bands": self.bands,
            "size": str(self.size),
        }
        return f"{self.url}?{urllib.parse.urlencode(args)}"


class CutoutService(Section):
    """The ``cutout_service`` parameter section (ingest's and the scan's): the Legacy
    Surveys fits-cutout service and how it is called; the stamp size comes from the
    pipeline's own."""

    enabled: Bool
    url: Str
    layer: Str
    pixscale: PositiveFloat
    bands: Str
    max_concurrency: PositiveInt
    retries: NonNegativeInt
    backoff_seconds: NonNegativeFloat
    timeout_seconds: PositiveFloat
    cache_dir: Str

    def config(self, size: int) -> CutoutServiceConfig:
        """The service for stamps of ``size`` pixels."""
        return CutoutServiceConfig(
            enabled=self.enabled,
            url=self.url,
            layer=self.layer,
            pixscale=float(self.pixscale),
            bands=self.bands,
            size=size,
            max_concurrency=self.max_concurrency,
            retries=self.retries,
            backoff_seconds=float(self.backoff_seconds),
            timeout_seconds=float(self.timeout_seconds),
            cache_dir=normalise_uri(self.cache_dir).rstrip("/"),
        )


def _fetch_one(url: str, cfg: CutoutServiceConfig) -> bytes:
    """GET with retries; raises ``RuntimeError`` with the last reason when all tries fail."""
    last = ""
    for attempt in range(cfg.retries + 1):
        if attempt:
            time.sleep(cfg.backoff_seconds * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(url, timeout=cfg.timeout_seconds) as response:  # noqa: S310
                data = response.read()
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code not in _RETRYABLE:
                break
            continue
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = f"network error: {getattr(exc, 'reason', exc)}"
            continue
        try:
            decode_fits(data)
        except StampDecodeError as exc:
            last = f"service returned an unreadable cutout ({exc.reason})"
            continue
        return data
    raise RuntimeError(last or "no answer")


def fetch_cutouts(
    requests: Sequence[tuple[str, float, float]], cfg: CutoutServiceConfig
) -> dict[str, tuple[str, str]]:
    """Fetch cutouts into ``cfg.cache_dir``, skipping those already there.

    Parameters
    ----------
    requests : sequence of (str, float, float)
        ``(file stem, ra, dec)`` with positions in deg.
    cfg : CutoutServiceConfig
        Service settings.

    Returns
    -------
    dict
        Stem to ``("ok", uri)`` or ``("error", reason)``.
    """
    import fsspec

    fs, root = fsspec.core.url_to_fs(cfg.cache_dir)
    fs.makedirs(root, exist_ok=True)
    results: dict[str, tuple[str, str]] = {}
    todo = []
    for stem, ra, dec in requests:
        path = f"{root}/{stem}.fits"
        uri = f"{cfg.cache_dir}/{stem}.fits"
        if fs.exists(path):
            results[stem] = ("ok", uri)
        else:
            todo.append((stem, ra, dec, path, uri))
    logger.info("cutout service: %d cached, %d to fetch", len(results), len(todo))

    def work(item: tuple[str, float, float, str, str]) -> tuple[str, tuple[str, str]]:
        stem, ra, dec, path, uri = item
        try:
            data = _fetch_one(cfg.query(ra, dec), cfg)
        except RuntimeError as exc:
            return stem, ("error", f"cutout service: {exc}")
        with fs.open(path, "wb") as f:
            f.write(data)
        return stem, ("ok", uri)

    with ThreadPoolExecutor(cfg.max_concurrency) as pool:
        for stem, outcome in tqdm(
            pool.map(work, todo), total=len(todo), desc="cutout service", unit="cutout"
        ):
            results[stem] = outcome
    return results


def fill_from_service(plan: Any, cfg: CutoutServiceConfig) -> Any:
    """The objects of a cutout plan without a file, fetched from the service (when it is
    enabled): ``cutout_file`` becomes the cached file's URI and ``cutout_origin``
    ``service``, or ``cutout_error`` says why the service failed.

    Parameters
    ----------
    plan : pandas.DataFrame
        ``ra``, ``dec`` (deg), ``cutout_file``, ``cutout_origin``, ``cutout_error``; a
        default integer index.
    cfg : CutoutServiceConfig
        Service settings.

    Returns
    -------
    pandas.DataFrame
        The plan, updated in place and returned.
    """
    import numpy as np

    from stronglens_calibration.stamps.naming import cutout_stem

    missing = np.flatnonzero(plan["cutout_file"].to_numpy(str) == "")
    if not cfg.enabled or not missing.size:
        return plan
    ra, dec = plan["ra"].to_numpy(np.float64), plan["dec"].to_numpy(np.float64)
    wanted = [(cutout_stem(ra[i], dec[i]), ra[i], dec[i]) for i in missing]
    fetched = fetch_cutouts(wanted, cfg)
    for i, (stem, _, _) in zip(missing, wanted, strict=True):
        status, value = fetched[stem]
        if status == "ok":
            plan.loc[i, ["cutout_file", "cutout_origin", "cutout_error"]] = [value, "service", ""]
        else:
            plan.at[i, "cutout_error"] = value
    return plan
