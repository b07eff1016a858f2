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


def load_weights(model: LensFinder, state_dict: dict[str, Any], what: str) -> None:
    """``model.load_state_dict(state_dict)``, with a message that says how the weights
    differ from the network when they do not fit (another architecture, input size or
    number of channels) instead of torch's list of key names.

    Raises
    ------
    ValueError
        Naming ``what`` (e.g. ``"lens_finder"``), the network, and the missing,
        unexpected and mis-shaped weights.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    reshaped = sorted(
        k
        for k in set(expected) & set(state_dict)
        if tuple(expected[k].shape) != tuple(getattr(state_dict[k], "shape", ()))
    )
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f"{len(missing)} weight(s) it lacks (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} the network does not have (e.g. {unexpected[0]})")
        if reshaped:
            k = reshaped[0]
            parts.append(
                f"{len(reshaped)} of another shape (e.g. {k}: {tuple(state_dict[k].shape)} "
                f"where the network has {tuple(expected[k].shape)})"
            )
        arch = getattr(model, "network", {}).get("architecture", type(model).__name__)
        raise ValueError(
            f"{what}: the weights do not fit the {arch!r} network: {'; '.join(parts)}. They "
            "were saved from another architecture or input size; use the artifact they "
            "came with, or retrain."
        )
    model.load_state_dict(state_dict)


def from_artifact(artifact: dict[str, Any]) -> tuple[LensFinder, Preprocessing]:
    """Rebuild the model (in eval mode) and its preprocessing from a stored artifact."""
    missing = [k for k in ("state_dict", "config", "preprocessing") if k not in artifact]
    if missing:
        raise ValueError(f"lens_finder artifact lacks {missing}")
    cfg = artifact["config"]
    network = artifact.get("network") or {"architecture": cfg["architecture"]}
    model = build_model(network["architecture"], cfg.get("dropout", 0.0), network.get("arguments"))
    load_weights(model, artifact["state_dict"], "lens_finder")
    model.eval()
    return model, Preprocessing.from_dict(artifact["preprocessing"])
