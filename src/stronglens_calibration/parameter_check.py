"""Parameters checked before anything runs: a key given on the command line
(``--params``) that the project does not have is refused with the nearest valid key, and
every pipeline's section is parsed by its typed schema
(:mod:`~stronglens_calibration.parameter_schema`), so an unknown key in a parameters file
or a bad value stops the run naming its dotted path before the first node (not hours
later, when its node runs). A section no pipeline has is refused too."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from stronglens_calibration.parameter_schema import ParameterError, nearest_key

__all__ = ["ParameterCheckHook", "ParameterError", "check_parameters"]

logger = logging.getLogger(__name__)


def dotted_keys(tree: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Every key of a nested mapping as ``a.b.c`` (intermediate sections included)."""
    keys: set[str] = set()
    for key, value in tree.items():
        name = f"{prefix}{key}"
        keys.add(name)
        if isinstance(value, Mapping):
            keys |= dotted_keys(value, name + ".")
    return keys


def leaf_keys(tree: Mapping[str, Any], prefix: str = "") -> set[str]:
    """The leaves of a nested mapping as ``a.b.c`` (keys may themselves be dotted)."""
    out: set[str] = set()
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out |= leaf_keys(value, name + ".")
        else:
            out.add(name)
    return out


def unknown_keys(given: Mapping[str, Any], known: set[str]) -> list[tuple[str, str]]:
    """``(key, nearest valid key)`` of each given leaf key not in ``known``."""
    out = []
    for key in sorted(leaf_keys(given)):
        if key in known:
            continue
        out.append((key, nearest_key(key, known) or ""))
    return out


def _validators() -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """Each pipeline's parameter section and the config class that parses it."""
    from stronglens_calibration.gates.data_gates import GateConfig
    from stronglens_calibration.mock.config import MockSurveyConfig
    from stronglens_calibration.pipelines.evaluate.config import EvaluateConfig
    from stronglens_calibration.pipelines.ingest.config import IngestConfig
    from stronglens_calibration.pipelines.quality.config import QualityConfig
    from stronglens_calibration.pipelines.scan.config import ScanConfig
    from stronglens_calibration.pipelines.split.config import SplitConfig
    from stronglens_calibration.pipelines.train.config import TrainSettings
    from stronglens_calibration.preflight import PreflightSettings

    return {
        "preflight": PreflightSettings.from_params,
        "mock_survey": MockSurveyConfig.from_params,
        "ingest": IngestConfig.from_params,
        "quality": QualityConfig.from_params,
        "split": SplitConfig.from_params,
        "shortcut_gates": GateConfig.from_params,
        "train": TrainSettings.from_params,
        "evaluate": EvaluateConfig.from_params,
        "scan": ScanConfig.from_params,
    }


def _listing(unknown: list[tuple[str, str]]) -> str:
    """One line per unknown key, with the nearest valid one when there is one."""
    return "\n  ".join(
        f"{key!r}" + (f" (did you mean {near!r}?)" if near else "") for key, near in unknown
    )


def check_parameters(
    parameters: Mapping[str, Any], runtime: Mapping[str, Any], reference: Mapping[str, Any]
) -> None:
    """Raise :class:`ParameterError` for an unknown runtime key or a bad value.

    Parameters
    ----------
    parameters : Mapping
        The run's parameters (configuration and ``--params`` merged).
    runtime : Mapping
        What ``--params`` gave.
    reference : Mapping
        The keys that exist: the configuration's parameters and globals.
    """
    unknown = unknown_keys(runtime, dotted_keys(reference))
    if unknown:
        raise ParameterError(f"unknown parameter(s) given with --params:\n  {_listing(unknown)}")
    validators = _validators()
    sections = {k: None for k, v in parameters.items() if isinstance(v, Mapping)}
    strays = unknown_keys(sections, set(validators))
    if strays:
        raise ParameterError(f"parameter section(s) no pipeline reads:\n  {_listing(strays)}")
    for section, parse in validators.items():
        if section in parameters:
            try:
                parse(parameters[section])
            except (TypeError, ValueError, KeyError) as exc:
                message = exc.args[0] if exc.args else str(exc)
                raise ParameterError(f"bad parameter: {message}") from exc


class ParameterCheckHook:
    """Checks the run's parameters before any other hook opens a store or a run."""

    def __init__(self) -> None:
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if self._context is None:
            return
        from kedro.config import OmegaConfigLoader

        loader = self._context.config_loader
        plain = OmegaConfigLoader(
            conf_source=str(loader.conf_source),
            base_env=loader.base_env,
            default_run_env=loader.default_run_env,
            env=loader.env,
            config_patterns=loader.config_patterns,
        )
        reference = dict(plain["parameters"])
        try:
            reference |= {k: v for k, v in plain["globals"].items() if k not in reference}
        except KeyError:
            pass
        check_parameters(self._context.params, run_params.get("runtime_params") or {}, reference)
        logger.info("parameters checked: every key known, every pipeline's values valid")
