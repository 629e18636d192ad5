"""Checking TOML values against dataclass fields: unknown keys name the valid ones, types are normalized.

Numbers are normalized to the field's type (an integer given for a float field becomes a float), so that the
same configuration always serializes, and hashes, the same way. Lists become tuples.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["build", "check_keys", "coerce", "config_hash", "describe", "field_values"]


def check_keys(values: Mapping[str, Any], valid: Iterable[str], where: str) -> None:
    """Raise ``ValueError`` naming the first unknown key of ``values`` and listing the valid ones."""
    valid = list(valid)
    unknown = [key for key in values if key not in valid]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in {where}; valid: {', '.join(valid)}")


def describe(hint: Any) -> str:
    """A type hint in words, for error messages."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is tuple:
        return f"a list of {describe(typing.get_args(hint)[0])}s"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a table"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` checked against ``hint`` (bool, int, float, str, dict, tuple[X, ...], unions, optional)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        for option in typing.get_args(hint):
            if option is not type(None):
                try:
                    return coerce(value, option, name)
                except ValueError:
                    continue
    elif origin is tuple and isinstance(value, (list, tuple)):
        return tuple(coerce(v, typing.get_args(hint)[0], name) for v in value)
    elif hint is bool and isinstance(value, bool):
        return value
    elif hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif hint in (str, dict) and isinstance(value, hint):
        return value
    elif hint is Any:
        return value
    raise ValueError(f"{name} must be {describe(hint)}, got {value!r}")


def field_values(cls: type, values: Mapping[str, Any], where: str, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """``values`` checked against the fields of the dataclass ``cls`` and normalized to their types.

    ``skip`` names fields that may not be set from ``values`` (they are set elsewhere).
    """
    skip = set(skip)
    hints = typing.get_type_hints(cls)
    check_keys(values, [f.name for f in dataclasses.fields(cls) if f.init and f.name not in skip], where)
    return {key: coerce(v, hints[key], f"{where}.{key}") for key, v in values.items()}


def build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    """Instantiate the dataclass ``cls`` from ``values`` after checking keys, required fields and types."""
    kwargs = field_values(cls, values, where)
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{where} needs {missing[0]!r}")
    return cls(**kwargs)


def config_hash(config: Mapping[str, Any]) -> str:
    """16 hex characters of the SHA-256 of ``config`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
