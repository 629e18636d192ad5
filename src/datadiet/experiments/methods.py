"""A method of a recipe: a label, a kind and the kind's parameters; recipe tables to methods, and references
between them.

A method is written in a recipe as a table ``[methods.LABEL]`` with ``kind`` (default: the label, when the label
names a kind) and the kind's parameters; the label names the method in figures and tables. The kinds (``full``,
``random``, ``static``, ``dynamic``, ``always_sometimes``, ``velocity``, ``barrier``) live one per module in
:mod:`datadiet.experiments.kinds`. A method that refers to another (``init_from``, ``source``) stores the
other's parameters in its own configuration, so a change to either gives new runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from datadiet.experiments.config import identity_of
from datadiet.experiments.kinds import ANALYSIS_KINDS, METHOD_KINDS, MethodParams

__all__ = ["ANALYSIS_KINDS", "METHOD_KINDS", "Method", "parse_method", "resolve_references", "single"]


@dataclass(frozen=True)
class Method:
    """A labelled method: ``kind`` (a key of :data:`METHOD_KINDS`) and its parameters."""

    label: str
    kind: str
    params: Any

    def to_dict(self) -> dict:
        """The method as plain values, part of its runs' identity (:func:`~.config.identity_of`)."""
        return {"label": self.label, "kind": self.kind, **identity_of(self.params)}


def parse_method(label: str, table: dict) -> Method:
    """The method ``label`` from its recipe table; unknown kinds and keys raise ``ValueError``."""
    table = dict(table)
    kind = table.pop("kind", label if label in METHOD_KINDS else None)
    if kind not in METHOD_KINDS:
        what = f"unknown method kind {kind!r}" if kind is not None else "no kind given"
        raise ValueError(f"method {label!r}: {what}; valid kinds: {', '.join(METHOD_KINDS)}")
    return Method(label, kind, METHOD_KINDS[kind].from_table(table, f"methods.{label}"))


def single(methods: dict[str, list[Method]], label: str, where: str, kind: str | None = None) -> Method:
    """The one variant of method ``label`` (of ``kind`` if given); otherwise a ``ValueError`` saying why."""
    if label not in methods:
        raise ValueError(f"{where}: method {label!r} is not defined; defined: {', '.join(methods) or 'none'}")
    variants = methods[label]
    if len(variants) != 1:
        raise ValueError(f"{where}: method {label!r} has {len(variants)} variants (a list value); refer to a "
                         "method with one")
    if kind is not None and variants[0].kind != kind:
        raise ValueError(f"{where}: method {label!r} is of kind {variants[0].kind!r}, not {kind!r}")
    return variants[0]


def resolve_references(methods: dict[str, list[Method]]) -> dict[str, list[Method]]:
    """Fill in the parameters of the methods that others refer to (``init_from``, ``source``).

    A referred method is resolved first (a source may itself start from static scores); the kinds a reference
    may name (dynamic -> static, always_sometimes -> dynamic) leave no room for cycles.
    """
    out: dict[str, list[Method]] = {}

    def resolve(label: str) -> list[Method]:
        if label not in out:
            out[label] = [_resolve_one(m, label) for m in methods[label]]
        return out[label]

    def _resolve_one(method: Method, label: str) -> Method:
        params: MethodParams = method.params
        target = params.reference()
        if target is None:
            return method
        single(methods, target, f"methods.{label}", params.reference_kind)
        (other,) = resolve(target)
        return dataclasses.replace(method, params=params.resolved(other))

    for label in methods:
        resolve(label)
    return out
