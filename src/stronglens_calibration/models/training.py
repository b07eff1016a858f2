"""The training loop: AdamW, cosine schedule with warm-up, early stopping on validation
AUC, best and last checkpoints, exact resume."""

from __future__ import annotations

import io
import logging
import math
import os
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import AfterValidator, Strict
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, WeightedRandomSampler
from tqdm.auto import tqdm

from stronglens_calibration.models.artifact import load_weights
from stronglens_calibration.models.data import StampDataset, collate_skip_none
from stronglens_calibration.models.networks import LensFinder, build_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (all from ``params:train``); saved with every checkpoint."""

    architecture: str
    dropout: float
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_epochs: int
    patience: int
    num_workers: int
    seed: int
    balance: str  # "sampler" or "loss"


def check_device(requested: str, parameter: str | None = "device") -> str:
    """``requested`` when this machine has it (``auto`` always), else a ``ValueError``
    naming ``parameter`` (``None``: the message names none, as a schema type's, whose
    schema adds the dotted path): a CUDA device on a machine without one, a CUDA index
    beyond the devices present, MPS where there is none, or a name torch does not know."""
    requested = str(requested)
    name = f"parameter '{parameter}' " if parameter else ""
    if requested == "auto":
        return requested
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ValueError(
            f"{name}must be 'auto' or a torch device name (cpu, cuda, "
            f"cuda:0, mps), got {requested!r}"
        ) from exc
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"{name}asks for {requested!r}, but this machine has no "
                "CUDA device (or this torch build has no CUDA); use 'auto' or 'cpu'"
            )
        if device.index is not None and device.index >= count:
            raise ValueError(
                f"{name}asks for {requested!r}, but this machine has "
                f"{count} CUDA device(s) (cuda:0 to cuda:{count - 1})"
            )
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"{name}asks for 'mps', but MPS is not available here; use 'auto' or 'cpu'"
            )
    return requested


#: A schema field holding ``auto`` or a torch device this machine has.
TorchDevice = Annotated[str, Strict(), AfterValidator(lambda value: check_device(value, None))]


def select_device(requested: str = "auto", parameter: str = "device") -> torch.device:
    """CUDA, then MPS, then CPU (``auto``), or the requested device (checked:
    :func:`check_device`)."""
    if check_device(requested, parameter) != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _lr_lambda(cfg: TrainConfig, steps_per_epoch: int) -> Callable[[int], float]:
    warm = max(1, cfg.warmup_epochs * steps_per_epoch)
    total = max(warm + 1, cfg.epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))

    return factor


def _loader(ds: StampDataset, cfg: TrainConfig, epoch: int, train: bool) -> DataLoader:
    ds.set_epoch(epoch)
    generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
    sampler = None
    if train and cfg.balance == "sampler":
        pos = ds.labels == 1
        class_w = np.where(pos, 0.5 / max(pos.sum(), 1), 0.5 / max((~pos).sum(), 1))
        sampler = WeightedRandomSampler(
            torch.as_tensor(class_w * ds.weights, dtype=torch.double),
            len(ds),
            replacement=True,
            generator=generator,
        )
    return DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        generator=generator if train and sampler is None else None,
        drop_last=False,
        num_workers=cfg.num_workers,
        collate_fn=collate_skip_none,
        persistent_workers=False,
    )


def _loss(
    logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor, pos_weight: float
) -> torch.Tensor:
    per = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    per = per * w * torch.where(y > 0.5, pos_weight, 1.0)
    return per.sum() / torch.clamp(w.sum(), min=1e-12)


def predict(
    model: LensFinder, ds: StampDataset, batch_size: int, device: torch.device, num_workers: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities, labels and weights of every finite stamp of ``ds`` (in order)."""
    model.eval()
    loader = DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=collate_skip_none,
    )
    ps, ys, ws = [], [], []
    with torch.no_grad():
        for x, y, w, _ in loader:
            if x is None:
                continue
            ps.append(torch.sigmoid(model(x.to(device)).float()).cpu().numpy())
            ys.append(y.numpy())
            ws.append(w.numpy())
    if not ps:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.concatenate(ps), np.concatenate(ys), np.concatenate(ws)


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": random.getstate()}


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])


def _fs_path(uri: str | os.PathLike[str]) -> tuple[Any, str]:
    import fsspec

    from stronglens_calibration.storage.uri import normalise_uri

    return fsspec.core.url_to_fs(normalise_uri(str(uri)))


def save_checkpoint(uri: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Write a checkpoint (local path or ``s3://`` URI) so that a half-written file never
    replaces a good one: written beside it, then moved into place."""
    fs, path = _fs_path(uri)
    buf = io.BytesIO()
    torch.save(payload, buf)
    tmp = f"{path}.tmp"
    fs.pipe_file(tmp, buf.getvalue())
    fs.mv(tmp, path)


def load_checkpoint(uri: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint without executing code (``weights_only=True``)."""
    fs, path = _fs_path(uri)
    with fs.open(path, "rb") as f:
        return torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=True)


def _exists(uri: str) -> bool:
    fs, path = _fs_path(uri)
    return bool(fs.exists(path))


def data_fingerprint(train_ds: StampDataset, val_ds: StampDataset) -> str:
    """The training and validation data a checkpoint belongs to (resume only on it)."""
    return f"{train_ds.fingerprint()}/{val_ds.fingerprint()}"


def train_model(
    train_ds: StampDataset,
    val_ds: StampDataset,
    cfg: TrainConfig,
    preprocessing: dict[str, Any],
    checkpoint_dir: str | os.PathLike[str],
    device: torch.device,
    resume: bool = True,
    stop_after_epochs: int | None = None,
) -> tuple[LensFinder, list[dict[str, float]]]:
    """Train, checkpointing every epoch; resume from ``last.pt`` when asked.

    Parameters
    ----------
    train_ds, val_ds : StampDataset
        Training (augmented) and validation data.
    cfg : TrainConfig
        Hyper-parameters.
    preprocessing : dict
        Saved with the checkpoints.
    checkpoint_dir : str or path-like
        ``last.pt`` and ``best.pt`` go here (a local folder or an ``s3://`` URI).
    device : torch.device
        Where to train.
    resume : bool
        Continue from ``last.pt`` if it exists and its configuration matches.
    stop_after_epochs : int, optional
        Stop (as an interruption would) after this many epochs of this call.

    Returns
    -------
    model : LensFinder
        The best model (highest validation AUC).
    history : list of dict
        Per epoch ``train_loss``, ``val_loss``, ``val_auc``, ``lr``, ``skipped``.
    """
    if (train_ds.labels == 1).sum() == 0 or (train_ds.labels == 0).sum() == 0:
        raise ValueError(
            "the training split needs positives and negatives; it has "
            f"{int((train_ds.labels == 1).sum())} and {int((train_ds.labels == 0).sum())}"
        )
    if (val_ds.labels == 1).sum() == 0:
        raise ValueError("the validation split has no positives: its AUC is undefined")
    fs, folder = _fs_path(checkpoint_dir)
    fs.makedirs(folder, exist_ok=True)
    root = str(checkpoint_dir).rstrip("/")
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    model = build_model(cfg.architecture, cfg.dropout).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    steps = math.ceil(len(train_ds) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg, steps))
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    pos = train_ds.labels == 1
    pos_weight = 1.0 if cfg.balance == "sampler" else float((~pos).sum() / max(pos.sum(), 1))
    start, best_auc, bad_epochs, history = 0, -1.0, 0, []
    last, best_path = f"{root}/last.pt", f"{root}/best.pt"
    data = data_fingerprint(train_ds, val_ds)
    if resume and _exists(last):
        ckpt = load_checkpoint(last)
        if ckpt.get("data") != data:
            logger.warning(
                "%s was written on other training or validation data (objects, labels, "
                "weights or pixels differ); starting afresh",
                last,
            )
        elif ckpt["config"] == asdict(cfg):
            load_weights(model, ckpt["model"], f"checkpoint {last}")
            opt.load_state_dict(ckpt["optimizer"])
            sched.load_state_dict(ckpt["scheduler"])
            start, best_auc, bad_epochs = ckpt["epoch"] + 1, ckpt["best_auc"], ckpt["bad_epochs"]
            history = list(ckpt["history"])
            _set_rng_state(ckpt["rng"])
            logger.info("resuming from %s at epoch %d", last, start)
        else:
            logger.warning("%s was written with another configuration; starting afresh", last)
    done = 0
    for epoch in range(start, cfg.epochs):
        if bad_epochs >= cfg.patience:
            logger.info("early stopping: no val AUC gain for %d epochs", cfg.patience)
            break
        model.train()
        total, weight, skipped = 0.0, 0.0, 0
        bar = tqdm(
            _loader(train_ds, cfg, epoch, True),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            unit="batch",
            leave=False,
        )
        for xb, yb, wb, n_skip in bar:
            skipped += n_skip
            if xb is None:
                continue
            x, y, w = xb.to(device), yb.to(device), wb.to(device)
            with torch.autocast(device.type, enabled=amp):
                loss = _loss(model(x).float(), y, w, pos_weight)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite training loss at epoch {epoch + 1}")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            total += float(loss.detach()) * float(w.sum())
            weight += float(w.sum())
            bar.set_postfix(loss=f"{total / max(weight, 1e-12):.4f}")
        p, y_val, w_val = predict(model, val_ds, cfg.batch_size, device)
        val_loss = float(
            _loss(
                torch.logit(torch.as_tensor(p).clamp(1e-7, 1 - 1e-7)),
                torch.as_tensor(y_val),
                torch.as_tensor(w_val),
                pos_weight,
            )
        )
        val_auc = float(roc_auc_score(y_val, p, sample_weight=w_val))
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total / max(weight, 1e-12),
                "val_loss": val_loss,
                "val_auc": val_auc,
                "lr": float(opt.param_groups[0]["lr"]),
                "skipped": skipped,
            }
        )
        logger.info(
            "epoch %d: train_loss %.4f val_loss %.4f val_auc %.4f",
            epoch + 1,
            history[-1]["train_loss"],
            val_loss,
            val_auc,
        )
        if val_auc > best_auc:
            best_auc, bad_epochs = val_auc, 0
            save_checkpoint(
                best_path,
                {
                    "model": model.state_dict(),
                    "config": asdict(cfg),
                    "preprocessing": preprocessing,
                    "epoch": epoch,
                    "val_auc": val_auc,
                },
            )
        else:
            bad_epochs += 1
        save_checkpoint(
            last,
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "epoch": epoch,
                "best_auc": best_auc,
                "bad_epochs": bad_epochs,
                "history": history,
                "rng": _rng_state(),
                "config": asdict(cfg),
                "preprocessing": preprocessing,
                "data": data,
            },
        )
        done += 1
        if stop_after_epochs is not None and done >= stop_after_epochs:
            break
    best = load_checkpoint(best_path)
    model.load_state_dict(best["model"])
    return model, history
