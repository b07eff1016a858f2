"""The lens finder: resume equivalence, NaN guard, reload, split hygiene, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from stronglens_calibration.datasets import TorchArtifactDataset
from stronglens_calibration.models.artifact import from_artifact, to_artifact
from stronglens_calibration.models.data import StampDataset
from stronglens_calibration.models.networks import build_model, n_parameters
from stronglens_calibration.models.preprocessing import Preprocessing
from stronglens_calibration.models.training import TrainConfig, load_checkpoint, train_model
from stronglens_calibration.pipelines.train.config import TrainSettings
from stronglens_calibration.stamps.geometry import radius_map
from stronglens_calibration.synthetic import synthetic_store

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
    ring = (0.01 * np.exp(-0.5 * ((radius_map(SIZE) - 7) / 1.2) ** 2)).astype(np.float32)

    def plant(stamps, is_lens, rng):
        stamps[is_lens] += ring
        for i in nan_rows:
            stamps[i, 1, 5:9, 5:9] = np.nan

    return synthetic_store(
        tmp_path,
        n,
        size=SIZE,
        profile="exponential",
        scale_px=2.0,
        flux=lambda rng, m: np.full(m, 0.2),
        noise_sigma=(0.003, 0.003, 0.003),
        labels=(np.arange(n) % 2).astype(np.int8),
        splits={"train": 0.6, "val": 0.2, "test": 0.2},
        plant=plant,
        statistics=(1.5, (14.0, 20.0)),
    )


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


def test_bad_input_names_the_problem(tmp_path, project_parameters):
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
    with pytest.raises(ValueError, match="'clip'"):
        Preprocessing(clip=-1.0, crop=32)
    # the node names the dotted parameter
    params = {**project_parameters["train"], "preprocessing": {"clip": -1.0, "crop": 32}}
    with pytest.raises(ValueError, match="train.preprocessing.clip"):
        TrainSettings.from_params(params)


def test_a_checkpoint_of_other_data_is_not_resumed(tmp_path, caplog):
    objects, stamps = _store(tmp_path)
    cfg = dataclasses.replace(CFG, epochs=2)
    train_model(
        *_datasets(objects, stamps), cfg, PRE.to_dict(), tmp_path / "k", torch.device("cpu")
    )
    assert load_checkpoint(tmp_path / "k" / "last.pt")["epoch"] == 1
    # a new split moves objects between train and val: the finished checkpoint is stale
    moved = objects.copy()
    swap = moved.index[moved["split"].isin(["train", "val"])][:10]
    moved.loc[swap, "split"] = np.where(moved.loc[swap, "split"] == "train", "val", "train")
    with caplog.at_level("WARNING"):
        _, history = train_model(
            *_datasets(moved, stamps), cfg, PRE.to_dict(), tmp_path / "k", torch.device("cpu")
        )
    assert "other training or validation data" in caplog.text
    assert len(history) == cfg.epochs  # trained afresh, not "resumed" at the last epoch
    # the same data again resumes (nothing left to do)
    caplog.clear()
    _, again = train_model(
        *_datasets(moved, stamps), cfg, PRE.to_dict(), tmp_path / "k", torch.device("cpu")
    )
    assert "other training" not in caplog.text and again == history


def test_new_pixels_under_the_same_ids_change_the_data_fingerprint(tmp_path):
    objects, stamps = _store(tmp_path)
    a = StampDataset(objects, stamps, ("train",), PRE).fingerprint()
    brighter = objects.assign(core_flux_r=objects["core_flux_r"] * 1.01)
    assert StampDataset(brighter, stamps, ("train",), PRE).fingerprint() != a
    assert StampDataset(objects.copy(), stamps, ("train",), PRE).fingerprint() == a
