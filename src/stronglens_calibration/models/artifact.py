"""The saved lens finder: weights, hyper-parameters and preprocessing, reloadable exactly."""

from __future__ import annotations

from typing import Any

from stronglens_calibration.models.networks import LensFinder, build_model, n_parameters
from stronglens_calibration.models.preprocessing import Preprocessing


def to_artifact(model: LensFinder, config: dict[str, Any], preprocessing: Preprocessing) -> dict:
    """What ``lens_finder`` stores: tensors and plain values only (``weights_only`` safe)."""
    return {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": dict(config),
        "network": dict(model.network),
        "preprocessing": preprocessing.to_dict(),
        "n_parameters": n_parameters(model),
    }


def from_artifact(artifact: dict[str, Any]) -> tuple[LensFinder, Preprocessing]:
    """Rebuild the model (in eval mode) and its preprocessing from a stored artifact."""
    missing = [k for k in ("state_dict", "config", "preprocessing") if k not in artifact]
    if missing:
        raise ValueError(f"lens_finder artifact lacks {missing}")
    cfg = artifact["config"]
    network = artifact.get("network") or {"architecture": cfg["architecture"]}
    model = build_model(network["architecture"], cfg.get("dropout", 0.0), network.get("arguments"))
    model.load_state_dict(artifact["state_dict"])
    model.eval()
    return model, Preprocessing.from_dict(artifact["preprocessing"])
