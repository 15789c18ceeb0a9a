"""Typed configs built from plain mappings, with one-line errors naming the key.

Every component of the library has a frozen dataclass config. ``build`` turns a
mapping (a params.yaml section, say) into one, rejecting unknown keys, values of
the wrong type and values out of range. Ranges live in the field metadata:

    step_size: float = field(default=10.0, metadata=gt(0))

Missing keys take the dataclass defaults, which suit a library user. A params file wants the
opposite: a key deleted from it must not silently switch to a default (often the paper-scale
value). Inside ``required_keys(optional)`` every field is required except the ones ``optional``
names for that prefix.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")

# None: missing keys take the defaults; a mapping "prefix." -> field names: only those may be missing.
_OPTIONAL: ContextVar[Mapping[str, Collection[str]] | None] = ContextVar("optional_keys", default=None)


@contextmanager
def required_keys(optional: Mapping[str, Collection[str]]) -> Iterator[None]:
    """Within the block ``build`` refuses a mapping that leaves out a field, unless ``optional[prefix]``
    names it (a prefix not in ``optional``: every field required)."""
    token = _OPTIONAL.set(optional)
    try:
        yield
    finally:
        _OPTIONAL.reset(token)


class ConfigError(ValueError):
    """A config value is wrong; the message names the key and what is allowed."""


def gt(x: float) -> dict:
    return {"gt": x}


def ge(x: float) -> dict:
    return {"ge": x}


def between(lo: float, hi: float) -> dict:
    return {"ge": lo, "le": hi}


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _check_value(key: str, value: Any, tp: Any, meta: Mapping) -> Any:
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{key} = {value!r}: unknown value (allowed: {', '.join(map(str, allowed))})")
        return value
    if origin in (list, tuple):
        (inner,) = set(get_args(tp)) - {Ellipsis} or {Any}
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} = {value!r}: expected a list")
        return tuple(_check_value(f"{key}[{i}]", v, inner, meta) for i, v in enumerate(value))
    given = value  # as the user wrote it, for messages
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r}: expected true or false")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r}: expected an integer")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} = {value!r}: expected a number")
        value = float(value)
        if not math.isfinite(value):  # YAML's .inf / .nan pass every range check
            raise ConfigError(f"{key} = {given!r}: expected a finite number")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r}: expected a string")
    if "gt" in meta and not value > meta["gt"]:
        raise ConfigError(f"{key} = {given!r}: must be > {meta['gt']}")
    if "ge" in meta and not value >= meta["ge"]:
        raise ConfigError(f"{key} = {given!r}: must be >= {meta['ge']}")
    if "le" in meta and not value <= meta["le"]:
        raise ConfigError(f"{key} = {given!r}: must be <= {meta['le']}")
    return value


def as_mapping(values: Any, prefix: str = "") -> dict:
    """``values`` as a dict; None is empty. A list or a string is refused (``dict()`` would take a list of pairs)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} = {values!r:.60}: expected a mapping of key: value")
    return dict(values)


def build(cls: type[T], values: Mapping[str, Any] | None, prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``values``; missing keys take the defaults (see ``required_keys``).

    Raises:
        ConfigError: an unknown key, a missing one under ``required_keys``, a wrong type or a value
            out of range; the message starts with the dotted key (``prefix`` + field name).
    """
    values = as_mapping(values, prefix)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in values if k not in fields)
    if unknown:
        raise ConfigError(
            f"{prefix}{unknown[0]}: unknown key (allowed: {', '.join(sorted(fields))})"
        )
    optional = _OPTIONAL.get()
    if optional is not None:
        missing = [n for n in fields if n not in values and n not in optional.get(prefix, ())]
        if missing:
            default = fields[missing[0]].default
            shown = "" if default is dataclasses.MISSING else f" {default!r}"
            raise ConfigError(f"{prefix}{missing[0]}: missing (every key must be set here: the library "
                              f"default{shown} is not necessarily this pipeline's value)")
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _check_value(prefix + name, value, hints[name], fields[name].metadata)
    return cls(**kwargs)


def pick(values: Mapping[str, Any], cls: type) -> dict:
    """The subset of ``values`` whose keys are fields of ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names}


def build_split(values: Mapping | None, prefix: str, *classes: type) -> tuple:
    """One mapping feeding several configs (a params section): one instance of each class from the keys
    that are its fields; a key that is a field of none is an error."""
    values = as_mapping(values, prefix)
    allowed = {f.name for c in classes for f in dataclasses.fields(c)}
    unknown = sorted(str(k) for k in values if k not in allowed)
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")
    return tuple(build(c, pick(values, c), prefix) for c in classes)
