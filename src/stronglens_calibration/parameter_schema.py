"""Typed parameter schemas: each pipeline's section of the parameters is one pydantic
model of the YAML as written, so a key the schema does not have, a missing key or a value
of the wrong type or range is refused with its dotted path (and, for an unknown key, the
nearest valid one) before the first node runs.

Values are typed strictly: ``"5"`` is not an integer and ``true`` is not a number, as
YAML already tells them apart; an integer is accepted where a float is expected. Lists in
the YAML become tuples.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError

#: Strictly typed scalars (YAML's own types; an int is a valid float).
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]
#: Common ranges.
PositiveInt = Annotated[int, Strict(), Field(ge=1)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]
NonNegativeFloat = Annotated[float, Strict(), Field(ge=0)]
Fraction = Annotated[float, Strict(), Field(ge=0, le=1)]
#: lenscat grading to project tier (``{confident: A, probable: B}``), most confident first.
Tiers = Annotated[dict[Str, Annotated[str, Strict(), Field(min_length=1)]], Field(min_length=1)]

S = TypeVar("S", bound="Section")


def ordered_pair(value: tuple[float, float]) -> tuple[float, float]:
    """``value`` if it is a ``(min, max)`` pair with ``min <= max`` (the message names no
    parameter: the schema adds the dotted path)."""
    if value[0] > value[1]:
        raise ValueError(f"must have min <= max, got {list(value)}")
    return value


def nearest_key(key: str, known: Iterable[str]) -> str | None:
    """The valid key ``key`` is most likely a typo of, if any is close."""
    near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return near[0] if near else None


def bounded_range(low: float | None = None, high: float | None = None) -> Any:
    """The type of a ``[min, max]`` pair of numbers within ``[low, high]``."""
    number = Annotated[float, Strict(), Field(ge=low, le=high)]
    return Annotated[tuple[number, number], AfterValidator(ordered_pair)]


#: A ``[min, max]`` pair of numbers.
Range = bounded_range()


class ParameterError(ValueError):
    """A parameter given to the run is unknown or has a bad value."""


class Section(BaseModel):
    """Base of every parameter schema: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def parse(cls: type[S], params: Any, path: str) -> S:
        """Validate ``params`` (the section at dotted ``path``) into this schema.

        Raises
        ------
        ParameterError
            Naming every bad key by its dotted path, with the nearest valid key for an
            unknown one.
        """
        if not isinstance(params, Mapping):
            raise ParameterError(
                f"parameter {path!r} must be a mapping, got {type(params).__name__}"
            )
        try:
            return cls.model_validate(dict(params))
        except ValidationError as exc:
            lines = [_describe(cls, error, path) for error in exc.errors()]
            raise ParameterError("\n  ".join(lines)) from None


def tier_names(tiers: Mapping[str, str]) -> tuple[str, ...]:
    """The distinct tiers of a :data:`Tiers` mapping, most confident first."""
    return tuple(dict.fromkeys(tiers.values()))


def _dotted(path: str, loc: tuple[Any, ...]) -> str:
    out = path
    for part in loc:
        if part == "[key]":  # pydantic's marker of a mapping's key (the key itself is bad)
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _fields_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows at ``loc`` (empty when it is not a section)."""
    model: Any = schema
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _model_of(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _describe(schema: type[BaseModel], error: Mapping[str, Any], path: str) -> str:
    loc = tuple(error["loc"])
    name = _dotted(path, loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(schema, loc[:-1])
        near = nearest_key(str(loc[-1]), known)
        if near:
            hint = f" (did you mean {_dotted(path, (*loc[:-1], near))!r}?)"
        else:
            hint = f" (the keys here: {', '.join(known)})" if known else ""
        return f"parameter {name!r} is not a known key{hint}"
    if kind == "missing":
        return f"parameter {name!r} is missing"
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        # a section's own validators name their parameters; a type's (ranges) do not
        named = message.startswith(("parameter", "unknown"))
        return message if named else f"parameter {name!r} {message}"
    message = message.replace("Input should be", "should be")
    return f"parameter {name!r} {message}, got {error.get('input')!r}"
