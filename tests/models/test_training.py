"""The lens finder: resume equivalence, NaN guard, reload, split hygiene, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from stronglens_calibration.datasets import NpyDataset, TorchArtifactDataset
from stronglens_calibration.models.artifact import from_artifact, to_artifact
from stronglens_calibration.models.data import StampDataset
from stronglens_calibration.models.networks import build_model, n_parameters
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.models.training import TrainConfig, load_checkpoint, train_model
from stronglens_calibration.stamps.statistics import stamp_statistics

SIZE = 41
CFG = TrainConfig(
    architecture="compact_resnet",
    dropout=0.1,
    epochs=4,
    batch_size=16,
    learning_rate=0.003,
    weight_decay=1e-4,
    warmup_epochs=1,
    patience=10,
    num_workers=0,
    seed=5,
    balance="sampler",
)
PRE = Preprocessing(clip=20.0, crop=32)


def _store(tmp_path, n=120, nan_rows=()):
    """Stamps with a faint ring for positives; splits 60/20/20 by index."""
    rng = np.random.default_rng(0)
    yy, xx = np.indices((SIZE, SIZE)) - SIZE // 2
    r = np.hypot(yy, xx)
    label = (np.arange(n) % 2).astype(np.int8)
    stamps = rng.normal(0, 0.003, (n, 3, SIZE, SIZE)).astype(np.float32)
    stamps += (0.2 * np.exp(-r / 2.0)).astype(np.float32)
    stamps[label == 1] += (0.01 * np.exp(-0.5 * ((r - 7) / 1.2) ** 2)).astype(np.float32)
    for i in nan_rows:
        stamps[i, 1, 5:9, 5:9] = np.nan
    np.save(tmp_path / "part-00000.npy", stamps)
    stats = pd.DataFrame(stamp_statistics(stamps, 1.5, (14.0, 20.0)))
    split = np.array(["train"] * n, dtype=object)
    split[int(0.6 * n) : int(0.8 * n)] = "val"
    split[int(0.8 * n) :] = "test"
    objects = pd.DataFrame(
        {
            "object_id": [f"o{i}" for i in range(n)],
            "label": label,
            "split": split,
            "cutout_ok": True,
            "sample_weight": np.float32(1.0),
            "shard": 0,
            "offset": np.arange(n),
        }
    )
    objects = pd.concat([objects, stats], axis=1)
    return objects, {"part-00000": NpyDataset(str(tmp_path / "part-00000.npy")).load}


def _datasets(objects, stamps):
    return (
        StampDataset(objects, stamps, ("train",), PRE, augment=True, seed=CFG.seed),
        StampDataset(objects, stamps, ("val",), PRE),
    )


def test_compact_model_has_about_0_2_million_parameters():
    assert 150_000 < n_parameters(build_model("compact_resnet")) < 250_000
    assert n_parameters(build_model("wide_resnet")) > 2 * n_parameters(
        build_model("compact_resnet")
    )


def test_resuming_after_an_interruption_reaches_the_same_weights(tmp_path):
    objects, stamps = _store(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _train_twice(objects, stamps, tmp_path)
    finally:
        torch.set_num_threads(threads)
    a = load_checkpoint(tmp_path / "a" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert a["epoch"] == b["epoch"] == CFG.epochs - 1
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    assert a["history"] == b["history"]


def _train_twice(objects, stamps, tmp_path):
    """Uninterrupted into a/, interrupted after 2 epochs and resumed into b/."""
    train_model(
        *_datasets(objects, stamps), CFG, PRE.to_dict(), tmp_path / "a", torch.device("cpu")
    )
    train_model(
        *_datasets(objects, stamps),
        CFG,
        PRE.to_dict(),
        tmp_path / "b",
        torch.device("cpu"),
        stop_after_epochs=2,
    )
    assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 1
    train_model(
        *_datasets(objects, stamps), CFG, PRE.to_dict(), tmp_path / "b", torch.device("cpu")
    )
    a = load_checkpoint(tmp_path / "a" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert a["epoch"] == b["epoch"] == CFG.epochs - 1
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    assert a["history"] == b["history"]


def test_a_batch_with_nan_does_not_make_the_loss_nan(tmp_path):
    objects, stamps = _store(tmp_path, nan_rows=(0, 2, 4))
    cfg = dataclasses.replace(CFG, epochs=2)
    _, history = train_model(
        *_datasets(objects, stamps), cfg, PRE.to_dict(), tmp_path / "c", torch.device("cpu")
    )
    assert all(np.isfinite(h["train_loss"]) for h in history)
    assert all(h["skipped"] > 0 for h in history)


def test_training_never_reads_the_test_split(tmp_path):
    objects, stamps = _store(tmp_path)
    train, val = _datasets(objects, stamps)
    cfg = dataclasses.replace(CFG, epochs=1)
    train_model(train, val, cfg, PRE.to_dict(), tmp_path / "d", torch.device("cpu"))
    test_ids = set(objects.loc[objects["split"] == "test", "object_id"])
    assert train.touched
    assert val.touched
    assert not (train.touched | val.touched) & test_ids
    assert train.touched <= set(objects.loc[objects["split"] == "train", "object_id"])


def test_a_reloaded_model_preprocesses_and_scores_identically(tmp_path):
    objects, stamps = _store(tmp_path)
    model = build_model("compact_resnet").eval()
    artifact = to_artifact(model, dataclasses.asdict(CFG), PRE)
    ds = TorchArtifactDataset(str(tmp_path / "model.pt"))
    ds.save(artifact)
    reloaded, pre = from_artifact(ds.load())
    assert pre == PRE
    data = StampDataset(objects, stamps, ("val",), PRE)
    x = torch.stack([torch.from_numpy(data.stamp(i)) for i in range(4)])
    with torch.no_grad():
        assert torch.equal(model(x), reloaded(x))


def test_bad_input_names_the_problem(tmp_path):
    with pytest.raises(ValueError, match="architecture"):
        build_model("transformer")
    objects, stamps = _store(tmp_path)
    no_pos = objects.assign(label=np.int8(0))
    with pytest.raises(ValueError, match="positives"):
        train_model(
            *_datasets(no_pos, stamps), CFG, PRE.to_dict(), tmp_path / "e", torch.device("cpu")
        )
    with pytest.raises(ValueError, match="crop"):
        StampDataset(objects, stamps, ("train",), Preprocessing(clip=20.0, crop=64)).stamp(0)
    with pytest.raises(ValueError, match="train.preprocessing.clip"):
        Preprocessing(clip=-1.0, crop=32)
