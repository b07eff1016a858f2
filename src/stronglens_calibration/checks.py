"""Validation of user parameters: each error names the parameter and the rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stronglens_calibration import BANDS


def require_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"parameter {name!r} must be a mapping, got {type(value).__name__}")
    return value


def require_key(params: Mapping[str, Any], key: str, name: str) -> Any:
    """Return ``params[key]`` or raise ``KeyError`` naming ``name.key``."""
    if key not in params:
        raise KeyError(f"parameter {name + '.' + key!r} is missing")
    return params[key]


def require_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    """A finite real number within ``[low, high]`` (``(low, high]`` if not ``low_inclusive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"parameter {name!r} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"parameter {name!r} must be finite, got {value}")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        rule = ">=" if low_inclusive else ">"
        raise ValueError(f"parameter {name!r} must be {rule} {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"parameter {name!r} must be <= {high}, got {value}")
    return value


def require_positive(value: Any, name: str) -> float:
    """A number strictly greater than zero."""
    return require_number(value, name, low=0.0, low_inclusive=False)


def require_fraction(value: Any, name: str) -> float:
    """A number in [0, 1]."""
    return require_number(value, name, low=0.0, high=1.0)


def require_int(value: Any, name: str, *, low: int = 0) -> int:
    """An integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"parameter {name!r} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"parameter {name!r} must be >= {low}, got {value}")
    return int(value)


def require_interval(
    value: Any, name: str, *, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """A ``[min, max]`` pair with ``min <= max``, both within ``[low, high]``."""
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"parameter {name!r} must be a [min, max] pair, got {value!r}")
    a = require_number(value[0], f"{name}[0]", low=low, high=high)
    b = require_number(value[1], f"{name}[1]", low=low, high=high)
    if a > b:
        raise ValueError(f"parameter {name!r} must have min <= max, got {list(value)}")
    return a, b


def require_bands(value: Any, name: str) -> tuple[str, ...]:
    """A non-empty list of distinct known bands, in the project's band order."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise TypeError(f"parameter {name!r} must be a non-empty list of bands, got {value!r}")
    unknown = [b for b in value if b not in BANDS]
    if unknown:
        raise ValueError(f"parameter {name!r} has unknown band(s) {unknown}; known: {list(BANDS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"parameter {name!r} repeats a band: {list(value)}")
    if tuple(value) != tuple(b for b in BANDS if b in value):
        raise ValueError(f"parameter {name!r} must follow the band order {list(BANDS)}")
    return tuple(value)


def require_per_band(
    value: Any, name: str, bands: Sequence[str], *, positive: bool = True
) -> np.ndarray:
    """A ``{band: number}`` mapping with every band in ``bands``; float64 array in band order."""
    mapping = require_mapping(value, name)
    unknown = sorted(set(mapping) - set(BANDS))
    if unknown:
        raise ValueError(f"parameter {name!r} has unknown band(s) {unknown}; known: {list(BANDS)}")
    missing = [b for b in bands if b not in mapping]
    if missing:
        raise KeyError(f"parameter {name!r} lacks band(s) {missing}")
    check = require_positive if positive else require_number
    return np.array([check(mapping[b], f"{name}.{b}") for b in bands], dtype=np.float64)


class ParamReader:
    """Reads one section of the parameters, naming ``section.key`` in every error.

    Parameters
    ----------
    params : Mapping
        The section, e.g. ``params:mock_survey``.
    path : str
        Its dotted name, used in error messages.
    """

    def __init__(self, params: Any, path: str) -> None:
        self._params = require_mapping(params, path)
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str) -> Any:
        """The value of ``key`` as given; ``KeyError`` naming it when absent."""
        return require_key(self._params, key, self.path)

    def section(self, key: str) -> ParamReader:
        """A reader over the sub-section ``key``."""
        return ParamReader(self.raw(key), self._name(key))

    def number(self, key: str, **bounds: Any) -> float:
        """A finite number; keyword bounds as in :func:`require_number`."""
        return require_number(self.raw(key), self._name(key), **bounds)

    def positive(self, key: str) -> float:
        """A number > 0."""
        return require_positive(self.raw(key), self._name(key))

    def fraction(self, key: str) -> float:
        """A number in [0, 1]."""
        return require_fraction(self.raw(key), self._name(key))

    def integer(self, key: str, low: int = 0) -> int:
        """An integer >= ``low``."""
        return require_int(self.raw(key), self._name(key), low=low)

    def interval(
        self, key: str, low: float | None = None, high: float | None = None
    ) -> tuple[float, float]:
        """A ``[min, max]`` pair within ``[low, high]``."""
        return require_interval(self.raw(key), self._name(key), low=low, high=high)

    def boolean(self, key: str) -> bool:
        """``true`` or ``false``."""
        value = self.raw(key)
        if not isinstance(value, bool):
            raise TypeError(f"parameter {self._name(key)!r} must be true or false, got {value!r}")
        return value

    def bands(self, key: str) -> tuple[str, ...]:
        """A list of bands in the project's band order."""
        return require_bands(self.raw(key), self._name(key))

    def per_band(self, key: str, bands: Sequence[str]) -> np.ndarray:
        """A ``{band: positive number}`` mapping as a float64 array in band order."""
        return require_per_band(self.raw(key), self._name(key), bands)

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings."""
        value = self.raw(key)
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"parameter {self._name(key)!r} must be a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise TypeError(f"parameter {self._name(key)!r} must be a list of strings")
        return tuple(value)

    def tiers(self, key: str) -> dict[str, str]:
        """A ``{grading: tier}`` mapping of strings (lenscat grading to project tier), in
        its order; the first tier is the most confident."""
        mapping = require_mapping(self.raw(key), self._name(key))
        if not mapping or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()
        ):
            raise TypeError(
                f"parameter {self._name(key)!r} must map lenscat gradings to tier names, "
                f"got {dict(mapping)!r}"
            )
        return dict(mapping)

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        """One of ``allowed``."""
        value = self.raw(key)
        if value not in allowed:
            raise ValueError(
                f"parameter {self._name(key)!r} must be one of {list(allowed)}, got {value!r}"
            )
        return str(value)
