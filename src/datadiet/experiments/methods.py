"""What a run does with the data: the method registry, recipe tables to methods, and references between them.

- ``full``: train on all data.
- ``random``: a static uniformly random subset of ``keep * N`` examples (seeded by the run's seed).
- ``static``: scores (``el2n``, ``grand``, ``forgetting``, ``loss``, ``margin``, ``input_norm``, ...) averaged
  over ``runs`` independent runs at epoch ``at`` of the run's schedule (0 = initialization, omitted = the end),
  then a selection rule: ``keep_highest``, ``keep_lowest``, ``sliding_window`` (drop the lowest ``offset``,
  keep the next ``keep``) or ``ccs`` (hard cut ``beta``), optionally class-balanced. The scoring runs use
  seeds ``score_seed .. score_seed + runs - 1`` whatever the run's seed, so every seed and every fraction of
  an experiment shares one set of scores. ``proxy = "basic_cnn"`` (with ``proxy_width``) computes the scores
  with that network instead of the trained one (paper 2, Fig. 22).
- ``dynamic``: a :class:`~datadiet.dynamic.DynamicPruner` policy (``random``, ``uncertainty``,
  ``uncertainty-ema``, ``egreedy``, ``ucb``, ``infobatch``) re-selecting every ``period`` epochs; the policy's
  hyper-parameters (``alpha``, ``eps``, ``c``, ``r``, ...) sit beside the pruner's options. ``init_from =
  "LABEL"`` starts the policy from the scores of the static method LABEL (paper 2, Fig. 15). Every dynamic run
  keeps its per-example selection counts (``selection_counts.npy`` in its folder).
- ``always_sometimes``: paper 2's Table 1: ``source = "LABEL"`` names a dynamic method whose runs (seeds
  ``source_seeds``) give the selection counts; their fitted mixture splits the data into always / sometimes /
  never, and the run trains on the always set plus part of the sometimes set, drawn once (``mode = "static"``)
  or at every checkpoint (``mode = "dynamic"``). The source runs join the experiment and run first.
- ``velocity`` and ``barrier``: analyses of training dynamics (paper 1, Fig. 3 and 4) instead of a training
  run on a subset; see :mod:`datadiet.experiments.analysis_params`. Their labels are :data:`ANALYSIS_KINDS`.

A method is written in a recipe as a table ``[methods.LABEL]`` with ``kind`` (default: the label, when the label
names a kind) and the kind's parameters (:mod:`datadiet.experiments.params`); the label names the method in
figures and tables. A method that refers to another (``init_from``, ``source``) stores the other's parameters in
its own configuration, so a change to either gives new runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from datadiet.dynamic import make_policy
from datadiet.experiments.analysis_params import BarrierParams, VelocityParams
from datadiet.experiments.params import (
    RULES, AlwaysSometimesParams, DynamicParams, FullParams, MethodParams, RandomParams, StaticParams,
)
from datadiet.experiments.values import build, check_keys

__all__ = ["ANALYSIS_KINDS", "METHOD_KINDS", "RULES", "AlwaysSometimesParams", "BarrierParams", "DynamicParams",
           "FullParams", "Method", "MethodParams", "RandomParams", "StaticParams", "VelocityParams", "parse_method",
           "resolve_references", "single"]

METHOD_KINDS: dict[str, type] = {
    "full": FullParams, "random": RandomParams, "static": StaticParams, "dynamic": DynamicParams,
    "always_sometimes": AlwaysSometimesParams, "velocity": VelocityParams, "barrier": BarrierParams,
}
ANALYSIS_KINDS = tuple(kind for kind, params in METHOD_KINDS.items() if params.analysis)
"""The kinds whose runs analyse training dynamics rather than train on a subset (no test accuracy)."""


@dataclass(frozen=True)
class Method:
    """A labelled method: ``kind`` (a key of :data:`METHOD_KINDS`) and its parameters."""

    label: str
    kind: str
    params: Any

    def to_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, **dataclasses.asdict(self.params)}


def parse_method(label: str, table: dict) -> Method:
    """The method ``label`` from its recipe table; unknown kinds and keys raise ``ValueError``."""
    table = dict(table)
    kind = table.pop("kind", label if label in METHOD_KINDS else None)
    if kind not in METHOD_KINDS:
        what = f"unknown method kind {kind!r}" if kind is not None else "no kind given"
        raise ValueError(f"method {label!r}: {what}; valid kinds: {', '.join(METHOD_KINDS)}")
    where = f"methods.{label}"
    if kind == "dynamic":
        return Method(label, kind, _dynamic(table, where))
    return Method(label, kind, build(METHOD_KINDS[kind], table, where))


def _dynamic(table: dict, where: str) -> DynamicParams:
    """Split a flat dynamic-method table into pruner options and the policy's hyper-parameters."""
    if "policy" not in table:
        raise ValueError(f"{where} needs 'policy'")
    policy_class = type(make_policy(table["policy"]))
    policy_fields = [f.name for f in dataclasses.fields(policy_class)]
    pruner_fields = [f.name for f in dataclasses.fields(DynamicParams) if f.init and f.name != "options"]
    check_keys(table, [*pruner_fields, *policy_fields], where)
    policy = build(policy_class, {k: v for k, v in table.items() if k in policy_fields}, where)
    params = build(DynamicParams, {k: v for k, v in table.items() if k in pruner_fields}, where)
    return dataclasses.replace(params, options=policy.options())


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
