"""The lens finder as an MLflow model: stamps in, calibrated probabilities out.

The model bundles what scoring needs: the network's weights and preprocessing
(``lens_finder.pt``), the calibration evaluate fitted (``calibration.json``) and the
quality rules and apertures of the stamp statistics (``scoring.json``). Its
``predict`` takes float32 stamps ``(n, 3, H, W)`` (g, r, z, nanomaggies per pixel, as
the cutout service gives them) and returns one row per stamp with ``logit``,
``p_calibrated``, ``p_survey``, ``scored`` and ``scan_flags``: exactly what the scan
pipeline computes, so ``mlflow.pyfunc.load_model(...).predict(stamps)`` needs nothing but
the installed package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

#: The name the lens finder is registered under in the model registry.
REGISTERED_NAME = "stronglens_lens_finder"


class LensFinderModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper of the trained network, its preprocessing and calibration."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        import torch

        from stronglens_calibration.models.artifact import from_artifact
        from stronglens_calibration.scan.scoring import ScoringSettings

        with open(context.artifacts["lens_finder"], "rb") as f:
            artifact = torch.load(f, map_location="cpu", weights_only=True)
        self._model, self._preprocessing = from_artifact(artifact)
        self._calibration = json.loads(Path(context.artifacts["calibration"]).read_text())
        settings = json.loads(Path(context.artifacts["scoring"]).read_text())
        settings["annulus_px"] = tuple(settings["annulus_px"])
        self._settings = ScoringSettings(**settings)

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: np.ndarray,
        params: dict | None = None,
    ) -> pd.DataFrame:
        """Score stamps.

        Parameters
        ----------
        model_input : numpy.ndarray
            float32 ``(n, 3, H, W)``, g, r, z, nanomaggies per pixel.

        Returns
        -------
        pandas.DataFrame
            ``logit``, ``p_calibrated`` (at the training sample's class balance),
            ``p_survey`` (at the survey prevalence the model was logged with),
            ``scored`` and ``scan_flags`` (why a stamp has no score).
        """
        import torch

        from stronglens_calibration.scan.scoring import logits_of_stamps, with_probabilities

        stamps = np.asarray(model_input, dtype=np.float32)
        if stamps.ndim != 4 or stamps.shape[1] != 3:
            raise ValueError(f"the lens finder takes stamps (n, 3, H, W), got {stamps.shape}")
        logits, flags = logits_of_stamps(
            stamps,
            np.full(len(stamps), "", dtype=object),
            self._model,
            self._preprocessing,
            self._settings,
            torch.device("cpu"),
        )
        rows = pd.DataFrame(index=np.arange(len(stamps)))
        out = with_probabilities(
            rows, logits, flags, self._calibration, self._settings.survey_prevalence
        )
        return out[["logit", "p_calibrated", "p_survey", "scored", "scan_flags"]]


def log_lens_finder(
    lens_finder: Mapping[str, Any],
    calibration: Mapping[str, Any],
    settings: Any,
    example: np.ndarray,
    tags: Mapping[str, str],
) -> Any:
    """Log the lens finder to the active MLflow run as a pyfunc model and register it
    under :data:`REGISTERED_NAME`, with ``tags`` (the gate verdicts) on the new version.

    Parameters
    ----------
    lens_finder, calibration : Mapping
        The trained artifact and evaluate's calibration.
    settings : ScoringSettings
        Apertures and quality rules of the stamp statistics.
    example : numpy.ndarray
        float32 ``(1, 3, H, W)``: an input example (a real stamp).
    tags : Mapping
        Set on the registered model version.

    Returns
    -------
    mlflow.models.model.ModelInfo
    """
    import tempfile

    import torch
    from mlflow.models import infer_signature

    model = LensFinderModel()
    torch_requirement = f"torch=={torch.__version__.split('+')[0]}"
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "lens_finder": Path(tmp) / "lens_finder.pt",
            "calibration": Path(tmp) / "calibration.json",
            "scoring": Path(tmp) / "scoring.json",
        }
        torch.save(dict(lens_finder), paths["lens_finder"])
        paths["calibration"].write_text(json.dumps(dict(calibration), indent=2, default=float))
        paths["scoring"].write_text(json.dumps(asdict(settings), indent=2))
        context = type("Context", (), {"artifacts": {k: str(v) for k, v in paths.items()}})()
        model.load_context(context)
        output = model.predict(context, example)
        info = mlflow.pyfunc.log_model(  # the package itself is the model's code
            name="lens_finder_model",
            python_model=model,
            artifacts={k: str(v) for k, v in paths.items()},
            signature=infer_signature(example, output),
            input_example=example,
            pip_requirements=[torch_requirement, "stronglens-calibration"],
            registered_model_name=REGISTERED_NAME,
        )
    client = mlflow.tracking.MlflowClient()
    version = info.registered_model_version
    if version is not None:
        for key, value in tags.items():
            client.set_model_version_tag(REGISTERED_NAME, str(version), key, str(value))
    return info
