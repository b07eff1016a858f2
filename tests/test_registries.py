"""Each extension point is one table: a format, a gate, a network or an engine added
there is found everywhere it is needed."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from stronglens_calibration.stamps import formats
from stronglens_calibration.stamps.cutout_index import CutoutIndex
from stronglens_calibration.stamps.formats import CutoutFormat, decode_stamp, register_format
from stronglens_calibration.stamps.store import decode_cutout


@pytest.fixture
def raw_format(monkeypatch):
    """A toy 'raw float32' cutout format: 4 bytes of magic, then (3, 5, 5) pixels."""
    monkeypatch.setattr(formats, "CUTOUT_FORMATS", dict(formats.CUTOUT_FORMATS))

    def decode(data: bytes, max_decoded_bytes: int) -> formats.DecodedStamp:
        pixels = np.frombuffer(data[4:], dtype=np.float32).reshape(3, 5, 5).copy()
        return formats.DecodedStamp(pixels, "grz", "raw")

    def encode(stamp: np.ndarray) -> bytes:
        return b"RAW0" + np.asarray(stamp, np.float32).tobytes()

    register_format(CutoutFormat("raw", (".raw",), decode, lambda d: d[:4] == b"RAW0", (encode,)))
    return encode


def test_a_registered_format_is_indexed_and_decoded(raw_format):
    stamp = np.arange(75, dtype=np.float32).reshape(3, 5, 5)
    data = raw_format(stamp)
    index = CutoutIndex.from_partitions({"cutout_001.00000_02.00000.raw": lambda: data}, "npz")
    located, _ = index.locate(np.array([1.0]), np.array([2.0]), 1.0)
    assert located["cutout_file"].tolist() == ["cutout_001.00000_02.00000.raw"]
    pixels, info = decode_cutout(data, "x.raw", 5)
    assert info == {"reader": "raw", "bands_present": "grz", "cutout_error": ""}
    assert np.array_equal(pixels, stamp)


def test_format_suffixes_cannot_clash_and_content_is_checked(raw_format):
    with pytest.raises(ValueError, match="already registered"):
        register_format(CutoutFormat("fits2", (".fits",), formats.decode_fits, bool))
    npz = formats.encode_npz_bands(np.zeros((3, 5, 5), np.float32), "grz")
    with pytest.raises(formats.StampDecodeError, match="holds npz data"):
        decode_stamp(npz, "mislabelled.fits")


def test_every_network_builds_scores_and_rebuilds_from_its_artifact(monkeypatch):
    from stronglens_calibration.models import networks
    from stronglens_calibration.models.artifact import from_artifact, to_artifact
    from stronglens_calibration.models.preprocessing import Preprocessing

    x = torch.zeros(2, 3, 48, 48)
    for name in networks.NETWORKS:
        model = networks.build_model(name).eval()
        assert model(x).shape == (2,)
        artifact = to_artifact(model, {"architecture": name, "dropout": 0.0}, Preprocessing(20, 48))
        # the table changes after training: the stored arguments still rebuild the model
        changed = dict(networks.NETWORKS)
        entry = changed[name]
        wider = {k: [2 * w for w in v] if k == "widths" else v for k, v in entry.arguments.items()}
        changed[name] = networks.NetworkEntry(entry.factory, wider, entry.summary)
        monkeypatch.setattr(networks, "NETWORKS", changed)
        buf = io.BytesIO()
        torch.save(artifact, buf)
        reloaded, _ = from_artifact(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
        with torch.no_grad():
            assert torch.equal(model(x), reloaded(x)), name
        monkeypatch.undo()


def test_resnet18_keeps_the_native_sampling_in_its_stem():
    from stronglens_calibration.models.networks import build_model, n_parameters

    model = build_model("resnet18")
    stem = model.encoder.net[0]
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    assert 10e6 < n_parameters(model) < 12e6


def test_engines_are_chosen_by_name():
    from stronglens_calibration.engines import PandasEngine, get_engine

    assert isinstance(get_engine("pandas"), PandasEngine)
    with pytest.raises(ValueError, match="'engine'.*pandas.*spark"):
        get_engine("dask")
    table = pd.DataFrame({"ra": [10.0, 200.0], "dec": [-5.0, 40.0]})
    out = get_engine("pandas").assign_splits(table, 8, 1, {"train": 0.5, "val": 0.25, "test": 0.25})
    assert list(out.columns) == ["healpix", "split"] and len(out) == 2


def test_a_registered_data_gate_is_measured_reported_and_enforced(monkeypatch, tmp_path):
    from stronglens_calibration.gates import data_gates, registry
    from stronglens_calibration.synthetic import synthetic_store

    monkeypatch.setattr(registry, "GATES", dict(registry.GATES))
    monkeypatch.setattr(data_gates, "GATES", registry.GATES)

    def always_high(inputs, cfg):
        return data_gates.gate_entry(0.9, (0.85, 0.95), "gate_toy", cfg)

    registry.register_gate(
        registry.GateDefinition(
            "gate_toy", "gate_toy_value", "toy", "max", "data", "toy", always_high
        )
    )
    params = {
        "enforce": True, "inconclusive": "stop_if_point_fails", "seed": 1, "split": "train",
        "max_per_class": 200,
        "core_radius_px": 1.5, "diagnostic_core_radius_px": 4.0, "diagnostic_max_per_class": 50,
        "diagnostic_logistic_C": 0.01, "arc_annulus_px": [1.5, 26.0],
        "noise_annulus_px": [32.0, 45.0], "radial": {"max_radius_px": 40.0, "bin_width_px": 4.0},
        "network_clip_sigma": 20.0, "folds": 3,
        "arc_suppression": {"detect_sigma": 3.0, "smooth_px": 2.1, "grow_px": 2.5,
                            "iterations": 3}, "n_bootstrap": 20, "logistic_C": 1.0,
        "permutation_null": {"permutations": 0, "bootstrap": 20},
        "model_gate": {"batch_size": 64, "device": "cpu"},
        "thresholds": {"max_abs_cohens_d": 0.1, "core_auc": 0.55, "core_ratio": [0.95, 1.05],
                       "radial_auc": 0.6, "arc_suppressed_excess_p": 0.3, "toy": 0.5,
                       "photsys_fraction_difference": 0.05, "artefact_auc": 0.55,
                       "clipped_core_auc": 0.55, "min_effective_sample_ratio": 1.0},
    }  # fmt: skip
    objects, stamps = synthetic_store(tmp_path, 150, size=91)
    report = data_gates.run_data_gates(objects, stamps, data_gates.GateConfig.from_params(params))
    assert report["gates"]["gate_toy"]["passed"] is False
    assert not report["passed"]
    assert "gate_toy" in data_gates.failure_message(report)
