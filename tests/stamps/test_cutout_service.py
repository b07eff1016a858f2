"""The cutout-service client against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from stronglens_calibration.stamps.cutout_service import CutoutServiceConfig, fetch_cutouts
from stronglens_calibration.stamps.formats import decode_fits, encode_fits


class _Service(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        ra, dec = float(q["ra"][0]), float(q["dec"][0])
        size = int(q["size"][0])
        key = f"{ra:.1f}"
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            n = self.hits[key]
        if key == "2.0" and n <= 2:  # fails twice, then answers
            self.send_error(503)
            return
        if key == "3.0":  # garbage, always
            body = b"<html>oops</html>"
        elif key == "4.0":
            self.send_error(404)
            return
        else:
            noise = np.random.default_rng(int(ra * 10)).normal(0, 0.003, (3, size, size))
            stamp = (ra + noise).astype(np.float32)
            body = encode_fits(stamp, q["bands"][0], ra, dec, float(q["pixscale"][0]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def service():
    _Service.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fits-cutout"
    server.shutdown()
    server.server_close()


def _config(url: str, cache: str) -> CutoutServiceConfig:
    return CutoutServiceConfig(
        enabled=True,
        url=url,
        layer="ls-dr10",
        pixscale=0.262,
        bands="grz",
        size=21,
        max_concurrency=2,
        retries=3,
        backoff_seconds=0.01,
        timeout_seconds=5.0,
        cache_dir=cache,
    )


def test_fetch_retries_validates_and_resumes(service, tmp_path):
    cfg = _config(service, str(tmp_path / "cache"))
    requests = [("a", 1.0, 0.0), ("b", 2.0, 0.0), ("c", 3.0, 0.0), ("d", 4.0, 0.0)]
    out = fetch_cutouts(requests, cfg)
    assert out["a"][0] == "ok"
    assert out["b"][0] == "ok"  # answered on the third try
    assert _Service.hits["2.0"] == 3
    assert out["c"] == (
        "error",
        "cutout service: service returned an unreadable cutout (corrupt FITS)",
    )
    assert _Service.hits["3.0"] == cfg.retries + 1
    assert out["d"] == ("error", "cutout service: HTTP 404")
    assert _Service.hits["4.0"] == 1  # not retried
    stamp = decode_fits((tmp_path / "cache" / "a.fits").read_bytes())
    assert stamp.pixels.shape == (3, 21, 21)
    assert stamp.pixels.mean() == pytest.approx(1.0, abs=1e-3)
    # resume: what is in the cache is not fetched again
    before = dict(_Service.hits)
    again = fetch_cutouts(requests[:2], cfg)
    assert again == {"a": out["a"], "b": out["b"]}
    assert _Service.hits == before


def test_unreachable_service_is_an_error_not_a_hang(tmp_path):
    cfg = _config("http://127.0.0.1:9/fits-cutout", str(tmp_path))
    out = fetch_cutouts([("x", 1.0, 1.0)], cfg)
    assert out["x"][0] == "error"
    assert "network error" in out["x"][1]
