"""What a run does with the data: the method registry and each method's parameters.

- ``full``: train on all data.
- ``random``: a static uniformly random subset of ``keep * N`` examples (seeded by the run's seed).
- ``static``: scores (``el2n``, ``grand``, ``forgetting``, ``loss``, ``margin``, ``input_norm``, ...) averaged
  over ``runs`` independent runs at epoch ``at`` of the run's schedule (0 = initialization, omitted = the end),
  then a selection rule: ``keep_highest``, ``keep_lowest``, ``sliding_window`` (drop the lowest ``offset``,
  keep the next ``keep``) or ``ccs`` (hard cut ``beta``), optionally class-balanced. The scoring runs use
  seeds ``score_seed .. score_seed + runs - 1`` whatever the run's seed, so every seed and every fraction of
  an experiment shares one set of scores.
- ``dynamic``: a :class:`~datadiet.dynamic.DynamicPruner` policy (``random``, ``uncertainty``,
  ``uncertainty-ema``, ``egreedy``, ``ucb``, ``infobatch``) re-selecting every ``period`` epochs; the policy's
  hyper-parameters (``alpha``, ``eps``, ``c``, ``r``, ...) sit beside the pruner's options.

A method is written in a recipe as a table ``[methods.LABEL]`` with ``kind`` (default: the label, when the label
names a kind) and the kind's parameters; the label names the method in figures and tables.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from datadiet.dynamic import DynamicPruner, make_policy
from datadiet.dynamic.callback import SCORE_SOURCES
from datadiet.experiments.values import build, check_keys
from datadiet.scores import get_score

if TYPE_CHECKING:
    from datadiet.experiments.config import RunConfig

__all__ = ["METHOD_KINDS", "RULES", "DynamicParams", "FullParams", "Method", "RandomParams", "StaticParams",
           "parse_method"]

RULES = ("keep_highest", "keep_lowest", "sliding_window", "ccs")
_PRUNER_DEFAULTS = {k: p.default for k, p in inspect.signature(DynamicPruner).parameters.items()}


def _at_least(name: str, value: int, low: int) -> None:
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def _fraction(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value}")


@dataclass(frozen=True)
class FullParams:
    """All training data (the reference)."""

    uses_keep: ClassVar[bool] = False

    def check(self, run: "RunConfig") -> None:
        """Nothing to check against the run."""


@dataclass(frozen=True)
class RandomParams:
    """A static uniform subset of ``keep * N`` examples, per class with ``class_balanced``."""

    class_balanced: bool = False
    uses_keep: ClassVar[bool] = True

    def check(self, run: "RunConfig") -> None:
        """Nothing to check against the run."""


@dataclass(frozen=True)
class StaticParams:
    """Scores averaged over ``runs`` runs at epoch ``at`` (0 = init, None = end), then a selection ``rule``."""

    score: str
    at: int | None = None
    runs: int = 10
    score_seed: int = 0
    rule: str = "keep_highest"
    offset: float = 0.0
    beta: float = 0.0
    strata: int = 50
    class_balanced: bool = False
    uses_keep: ClassVar[bool] = True

    def __post_init__(self) -> None:
        kind = get_score(self.score).kind
        if self.rule not in RULES:
            raise ValueError(f"unknown selection rule {self.rule!r}; valid: {', '.join(RULES)}")
        if self.at is not None:
            _at_least("at", self.at, 1 if kind == "training" else 0)
        _at_least("runs", self.runs, 1)
        _at_least("score_seed", self.score_seed, 0)
        _at_least("strata", self.strata, 1)
        _fraction("offset", self.offset)
        _fraction("beta", self.beta)

    def check(self, run: "RunConfig") -> None:
        """The time point must fall in the run's schedule and the rule's fractions must fit."""
        if self.at is not None and self.at > run.epochs:
            raise ValueError(f"at = {self.at} is past the end of the {run.epochs}-epoch schedule")
        if self.rule == "sliding_window" and self.offset + run.keep > 1 + 1e-9:
            raise ValueError(f"sliding_window needs offset + keep <= 1, got {self.offset} + {run.keep}")
        if self.rule == "ccs" and self.beta + run.keep > 1 + 1e-9:
            raise ValueError(f"ccs needs beta + keep <= 1, got {self.beta} + {run.keep}")

    def time_point(self, epochs: int) -> int:
        """The scoring epoch: ``at``, or the end of an ``epochs``-epoch schedule."""
        return epochs if self.at is None else self.at


@dataclass(frozen=True)
class DynamicParams:
    """A dynamic pruning policy and the pruner's schedule; ``options`` are the policy's hyper-parameters.

    ``class_balanced`` defaults to what the policy supports; ``options`` are completed with the policy's
    defaults, so the stored configuration is the one that ran.
    """

    policy: str
    period: int = 1
    warmup_epochs: int = _PRUNER_DEFAULTS["warmup_epochs"]
    class_balanced: bool | None = None
    final_full_epochs: int | None = None
    score_source: str = "pass"
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        policy = make_policy(self.policy, self.options)
        object.__setattr__(self, "options", policy.options())
        if self.class_balanced is None:
            object.__setattr__(self, "class_balanced", policy.class_balanced_ok)
        if self.score_source not in SCORE_SOURCES:
            raise ValueError(f"unknown score_source {self.score_source!r}; valid: {', '.join(SCORE_SOURCES)}")

    @property
    def uses_keep(self) -> bool:
        return make_policy(self.policy, self.options).fixed_budget

    def check(self, run: "RunConfig") -> None:
        """Dynamic runs train a fixed number of epochs; the schedule must fit in them."""
        if run.budget != "epochs":
            raise ValueError(f"dynamic pruning trains a fixed number of epochs: set budget = \"epochs\" "
                             f"(got {run.budget!r})")
        self.pruner(1000, keep=run.keep, seed=run.seed, epochs=run.epochs, labels=None)

    def pruner(self, num_examples: int, *, keep: float | None, seed: int, epochs: int, labels: Any) -> DynamicPruner:
        """The pruner of a run (class balance needs ``labels``; without them it is switched off)."""
        return DynamicPruner(
            num_examples, policy=self.policy, policy_options=self.options, keep=keep, period=self.period,
            seed=seed, epochs=epochs, labels=labels, class_balanced=self.class_balanced and labels is not None,
            warmup_epochs=self.warmup_epochs, final_full_epochs=self.final_full_epochs,
        )


METHOD_KINDS: dict[str, type] = {
    "full": FullParams, "random": RandomParams, "static": StaticParams, "dynamic": DynamicParams,
}


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
    pruner_fields = [f.name for f in dataclasses.fields(DynamicParams) if f.name != "options"]
    check_keys(table, [*pruner_fields, *policy_fields], where)
    policy = build(policy_class, {k: v for k, v in table.items() if k in policy_fields}, where)
    params = build(DynamicParams, {k: v for k, v in table.items() if k in pruner_fields}, where)
    return dataclasses.replace(params, options=policy.options())
