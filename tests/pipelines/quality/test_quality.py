"""The quality pipeline's own rules."""

import numpy as np
import pandas as pd
import pytest

from stronglens_calibration.pipelines.quality import create_pipeline
from stronglens_calibration.pipelines.quality.nodes import measure_stamps
from stronglens_calibration.stamps.quality import StoreInconsistencyError
from tests.conftest import run_slice


def _objects(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "object_id": [f"o{i}" for i in range(n)],
            "ra": np.arange(n, dtype=float),
            "dec": np.zeros(n),
            "label": np.array([1, 0] * (n // 2), dtype=np.int8),
            "tier": ["A", ""] * (n // 2),
            "shard": np.zeros(n, dtype=np.int32),
            "offset": np.arange(n, dtype=np.int32),
            "cutout_error": [""] * n,
        }
    )


PARAMS = {
    "quality": {
        "stamp_size": 21,
        "core_radius_px": 2.5,
        "annulus_px": [6.0, 9.0],
        "batch_size": 3,
        "n_workers": 1,
        "engine": "pandas",
        "no_coverage": {"core_radius_px": 5.0, "min_run_px": 3, "max_fraction": 0.25},
    }
}


def test_a_store_of_another_stamp_size_stops_the_run_naming_objects():
    objects = _objects(4)
    stamps = {"part-00000": lambda: np.zeros((4, 3, 25, 25), np.float32)}
    with pytest.raises(StoreInconsistencyError, match="o0, o1, o2, o3"):
        measure_stamps(objects, stamps, PARAMS["quality"] | {})


def test_quality_says_how_to_start_python_where_numpy_sorts_slowly(monkeypatch, caplog):
    """Where numpy's sorts are slow (its AVX-512 kernels on AMD Zen 4: detection in
    tests/test_sort_dispatch.py), quality says so before it measures."""
    import logging

    from stronglens_calibration import sort_dispatch

    objects = _objects(4)
    data = np.random.default_rng(0).normal(size=(4, 3, 21, 21)).astype(np.float32)
    advice = 'start Python with NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL"'
    for said in (advice, None):
        monkeypatch.setattr(sort_dispatch, "sort_dispatch_advice", lambda said=said: said)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            stats = measure_stamps(objects, {"part-00000": lambda: data}, PARAMS["quality"])
        assert len(stats) == 4
        warned = [r.getMessage() for r in caplog.records if "NPY_DISABLE" in r.getMessage()]
        assert warned == ([f"quality: {advice}"] if said else [])


def test_flags_and_counts_add_up():
    objects = _objects(4)
    data = np.random.default_rng(0).normal(size=(4, 3, 21, 21)).astype(np.float32)
    data[1, 0, 10, 10] = np.nan  # in the core
    data[2, 2] = 0.0  # empty z band
    data[3, 1, 0, 0] = np.inf
    ingest_quarantine = pd.DataFrame(
        {
            "object_id": ["x"],
            "ra": [1.0],
            "dec": [1.0],
            "label": [1],
            "stage": ["ingest:lenscat"],
            "reason": ["non-finite coordinates"],
        }
    )
    out = run_slice(
        create_pipeline(),
        {
            "objects_ingested": objects,
            "stamps": {"part-00000": lambda: data},
            "ingest_quarantine": ingest_quarantine,
            "params:quality": PARAMS["quality"],
        },
        ["objects_qc", "quarantine", "quality_report"],
    )
    qc, quarantine, report = out["objects_qc"], out["quarantine"], out["quality_report"]
    assert list(qc["quality_flags"]) == ["", "nan in core", "empty band z", "inf pixels"]
    assert report["rows_in"] == 5
    assert report["ok"] == 1
    assert report["quarantined"] == 4
    assert report["per_class"]["1"] == {"rows_in": 3, "ok": 1, "quarantined": 2}
    assert set(quarantine["object_id"]) == {"o1", "o2", "o3", "x"}
