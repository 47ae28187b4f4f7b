"""Typed reading of plain-data tables (TOML) into dataclasses.

Every dataclass of the device description is read by `from_table`, which checks
unknown and missing keys, types (from the type hints) and value constraints (from
field metadata, see `check`) and raises `ConfigError` naming the file, the full key
and what was expected.  A section of registered terms (`Terms`, such as [torques]) reads
each of its tables [SECTION.NAME] into the `Input` dataclass of the term class registered
under NAME (`Registry`).  Nothing here knows about physics.
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin, get_type_hints

from weylfem.errors import ConfigError

T = TypeVar("T")
Check = Callable[[Any], "str | None"]


def check(constraint: Check, **kwargs: Any) -> Any:
    """A dataclass field whose value must satisfy `constraint` (returns a message or None)."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["check"] = constraint
    return dataclasses.field(metadata=metadata, **kwargs)


def positive(value: float | None) -> str | None:
    """Constraint: a finite number > 0 (None allowed where the type allows it)."""
    if value is None or (math.isfinite(value) and value > 0):
        return None
    return "expected a positive number"


def positive_counts(value: tuple[int, ...] | None) -> str | None:
    """Constraint: integers >= 1 (cell counts)."""
    if value is None or all(v >= 1 for v in value):
        return None
    return "expected integers >= 1"


def non_negative(value: float | None) -> str | None:
    """Constraint: a finite number >= 0."""
    if value is None or (math.isfinite(value) and value >= 0):
        return None
    return "expected a number >= 0"


def finite(value: float | None) -> str | None:
    """Constraint: a finite number of either sign."""
    if value is None or math.isfinite(value):
        return None
    return "expected a finite number"


def nonzero(value: float | None) -> str | None:
    """Constraint: a finite number of either sign, not zero."""
    if value is None or (math.isfinite(value) and value != 0):
        return None
    return "expected a finite nonzero number"


def nonzero_direction(value: tuple[float, ...] | None) -> str | None:
    """Constraint: a vector that is not zero (a direction, normalised on use)."""
    if value is None or any(value):
        return None
    return "expected a nonzero direction"


def in_half_open_unit_interval(value: float | None) -> str | None:
    """Constraint: 0 < value <= 1."""
    if value is None or 0 < value <= 1:
        return None
    return "expected a number in (0, 1]"


def in_open_unit_interval(value: float | None) -> str | None:
    """Constraint: 0 < value < 1."""
    if value is None or 0 < value < 1:
        return None
    return "expected a number in (0, 1)"


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 3, 80, 80
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = 8


def shown(value: Any) -> str:
    """`value` as Python writes it, shortened (long strings, lists and deep tables are cut
    with ...) so that an error message stays one short line."""
    return _SHOWN.repr(value)


_PLURALS = {float: "numbers", int: "integers", str: "strings", bool: "booleans"}


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if hint is float:
        return "a number"
    if hint is int:
        return "an integer"
    if hint is str:
        return "a string"
    if hint is bool:
        return "true or false"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin is tuple:
        args = get_args(hint)
        plural = _PLURALS.get(args[0], "values")
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {plural}"
        return f"a list of {len(args)} {plural}"
    if origin in (dict, Mapping):
        return "a table"
    if dataclasses.is_dataclass(hint) or _is_terms(hint):
        return "a table"
    if _is_optional(hint):
        return _type_name(_strip_optional(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(hint))
    return str(hint)


def _is_optional(hint: Any) -> bool:
    return get_origin(hint) in (typing.Union, types.UnionType) and type(None) in get_args(hint)


def _strip_optional(hint: Any) -> Any:
    args = [a for a in get_args(hint) if a is not type(None)]
    return args[0]


def convert(value: Any, hint: Any, source: str, key: str) -> Any:
    """Convert a TOML value to the type `hint`, or raise ConfigError at `key`."""

    def fail() -> typing.NoReturn:
        raise ConfigError(source, key, f"expected {_type_name(hint)}, got {shown(value)}")

    if _is_optional(hint):
        return None if value is None else convert(value, _strip_optional(hint), source, key)
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in get_args(hint):
            try:
                return convert(value, arm, source, key)
            except ConfigError:
                continue
        fail()
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail()
        if not math.isfinite(value):
            fail()
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail()
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            fail()
        return value
    if origin is Literal:
        if value not in get_args(hint):
            fail()
        return value
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(value, list | tuple):
            fail()
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(v, args[0], source, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            fail()
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(convert(v, a, source, f"{key}[{i}]") for i, (v, a) in pairs)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            fail()
        _, value_hint = get_args(hint)
        return {k: convert(v, value_hint, source, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) or _is_terms(hint):
        if not isinstance(value, Mapping):
            fail()
        reader = hint.from_table if _is_terms(hint) else partial(from_table, hint)
        return reader(value, source, key)
    raise TypeError(f"schema: unsupported type hint {hint!r} at {key}")


def from_table(cls: type[T], table: Mapping[str, Any], source: str, prefix: str = "") -> T:
    """Build dataclass `cls` from a mapping, checking keys, types and field constraints."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    dotted = f"{prefix}." if prefix else ""
    _known_keys(table, fields, source, dotted)
    values = {}
    for name, f in fields.items():
        key = f"{dotted}{name}"
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(source, key, f"missing; expected {_type_name(hints[name])}")
            continue
        value = convert(table[name], hints[name], source, key)
        constraint = f.metadata.get("check")
        if constraint is not None:
            problem = constraint(value)
            if problem:
                raise ConfigError(source, key, f"{problem}, got {shown(table[name])}")
        values[name] = value
    instance = cls(**values)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        for name, problem in validate():
            raise ConfigError(source, f"{dotted}{name}", problem)
    return instance


def _known_keys(table: Mapping[str, Any], known: Iterable[str], source: str, dotted: str) -> None:
    """ConfigError at the first key of `table` not in `known`."""
    known = sorted(known)
    for name in table:
        if name not in known:
            expected = f"unknown key; expected one of: {', '.join(known)}"
            raise ConfigError(source, f"{dotted}{name}", expected)


class Registry(dict):
    """Term classes by their `name`, in registration order.  A term class reads its
    table [SECTION.NAME] into its nested dataclass `Input`."""

    def register(self, term: type[T]) -> type[T]:
        """Class decorator: `term` reads the table named `term.name`."""
        if term.name in self:
            raise ValueError(f"a term named {term.name!r} is registered already")
        self[term.name] = term
        return term


class Terms(dict):
    """A section of registered terms: every name of `registry` -> the `Input` of its
    table, None where the table is absent.  A subclass sets `registry`; asdict and JSON
    see a plain dict."""

    registry: ClassVar[Registry]

    def __init__(self, entries: Iterable[tuple[str, Any]] | Mapping[str, Any] = (), /, **given):
        given = dict(entries, **given)
        unknown = sorted(set(given) - set(self.registry))
        if unknown:
            raise TypeError(f"{type(self).__name__}: no registered term named {unknown}")
        super().__init__({name: given.get(name) for name in self.registry})

    def __getattr__(self, name: str) -> Any:
        if name in type(self).registry:
            return self.get(name)
        raise AttributeError(name)

    def given(self) -> dict[str, Any]:
        """The tables present, by name."""
        return {name: value for name, value in self.items() if value is not None}

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str, prefix: str) -> Terms:
        """Read each table [PREFIX.NAME] into the `Input` of the term registered as NAME
        (None, as device.json writes an absent one, stays None)."""
        _known_keys(table, cls.registry, source, f"{prefix}.")
        return cls(
            {
                name: convert(value, cls.registry[name].Input | None, source, f"{prefix}.{name}")
                for name, value in table.items()
            }
        )


def _is_terms(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Terms)
