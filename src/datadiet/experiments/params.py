"""The parameters of each method kind, as frozen dataclasses checked at construction and against their run.

Every kind answers the same questions (:class:`MethodParams`): does it take a size ``keep``, is it valid for a
given run, which cached static scores does it read, which other runs must finish before it can start, and which
other method of the recipe does it refer to. See :mod:`datadiet.experiments.methods` for the kinds; those of the
analyses (kernel velocity, error barrier) are in :mod:`datadiet.experiments.analysis_params`.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from datadiet.dynamic import DynamicPruner, Policy, make_policy
from datadiet.dynamic.always_sometimes import MODES
from datadiet.experiments.config import EPOCH_BUDGETS, ModelConfig
from datadiet.scores import get_score
from datadiet.training.dynamic_pruning import SCORE_SOURCES

if TYPE_CHECKING:
    from datadiet.experiments.config import RunConfig
    from datadiet.experiments.methods import Method

__all__ = ["RULES", "AlwaysSometimesParams", "DynamicParams", "FullParams", "MethodParams", "RandomParams",
           "StaticParams"]

RULES = ("keep_highest", "keep_lowest", "sliding_window", "ccs")
_PRUNER_DEFAULTS = {k: p.default for k, p in inspect.signature(DynamicPruner).parameters.items()}


def _at_least(name: str, value: int, low: int) -> None:
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def _fraction(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value}")


def _epoch_budget(run: "RunConfig", what: str) -> None:
    if run.budget not in EPOCH_BUDGETS:
        raise ValueError(f"{what} trains a number of epochs: set budget = \"epochs\" or \"samples\" "
                         f"(got {run.budget!r})")


class MethodParams:
    """Defaults of every kind: takes ``keep``, valid for any run, no static scores, no other run, no reference."""

    uses_keep: ClassVar[bool] = True
    analysis: ClassVar[bool] = False
    """True for the kinds whose run is an analysis of training dynamics (see :mod:`.analysis_params`), not a
    training run with a test accuracy."""
    reference_kind: ClassVar[str | None] = None
    """The kind of method :meth:`reference` must name (None: the kind refers to no other method)."""

    def check(self, run: "RunConfig") -> None:
        """Raise ``ValueError`` if the parameters do not fit ``run`` (its schedule, budget or size)."""

    def static_scores(self) -> "StaticParams | None":
        """The cached static scores the method reads, or None."""
        return None

    def required_runs(self, run: "RunConfig") -> tuple["RunConfig", ...]:
        """Runs that must have finished before ``run`` can start (their files are its input)."""
        return ()

    def reference(self) -> str | None:
        """The label of another method of the recipe these parameters refer to, or None."""
        return None

    def resolved(self, target: "Method") -> "MethodParams":
        """A copy with the referred method's parameters filled in (part of the run's identity)."""
        raise ValueError(f"{type(self).__name__} refers to no other method")


@dataclass(frozen=True)
class FullParams(MethodParams):
    """All training data (the reference)."""

    uses_keep: ClassVar[bool] = False


@dataclass(frozen=True)
class RandomParams(MethodParams):
    """A static uniform subset of ``keep * N`` examples, per class with ``class_balanced``."""

    class_balanced: bool = False


@dataclass(frozen=True)
class StaticParams(MethodParams):
    """Scores averaged over ``runs`` runs at epoch ``at`` (0 = init, None = end), then a selection ``rule``.

    ``proxy`` (a model name, at ``proxy_width``) computes the scores with another network than the one trained.
    """

    score: str
    at: int | None = None
    runs: int = 10
    score_seed: int = 0
    rule: str = "keep_highest"
    offset: float = 0.0
    beta: float = 0.0
    strata: int = 50
    class_balanced: bool = False
    proxy: str | None = None
    proxy_width: float = 1.0

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
        if self.proxy is not None:
            ModelConfig(self.proxy, self.proxy_width)

    def check(self, run: "RunConfig") -> None:
        """The time point must fall in the run's schedule and the rule's fractions must fit."""
        if self.at is not None and self.at > run.epochs:
            raise ValueError(f"at = {self.at} is past the end of the {run.epochs}-epoch schedule")
        if self.rule == "sliding_window" and self.offset + run.keep > 1 + 1e-9:
            raise ValueError(f"sliding_window needs offset + keep <= 1, got {self.offset} + {run.keep}")
        if self.rule == "ccs" and self.beta + run.keep > 1 + 1e-9:
            raise ValueError(f"ccs needs beta + keep <= 1, got {self.beta} + {run.keep}")

    def static_scores(self) -> "StaticParams":
        return self

    def time_point(self, epochs: int) -> int:
        """The scoring epoch: ``at``, or the end of an ``epochs``-epoch schedule."""
        return epochs if self.at is None else self.at

    def score_model(self, trained: ModelConfig) -> ModelConfig:
        """The network that computes the scores: the proxy, or the ``trained`` one."""
        return trained if self.proxy is None else ModelConfig(self.proxy, self.proxy_width)


@dataclass(frozen=True)
class DynamicParams(MethodParams):
    """A dynamic pruning policy and the pruner's schedule; ``options`` are the policy's hyper-parameters.

    ``class_balanced`` defaults to what the policy supports; ``options`` are completed with the policy's
    defaults, so the stored configuration is the one that ran. ``init_from`` names a static method whose scores
    are the pruner's first observation (``init_scores``, filled in from the recipe): with no warm-up they make
    the first selection, in place of the untrained model's scoring pass.
    """

    policy: str
    period: int = 1
    warmup_epochs: int = _PRUNER_DEFAULTS["warmup_epochs"]
    class_balanced: bool | None = None
    final_full_epochs: int | None = None
    score_source: str = "pass"
    init_from: str | None = None
    options: dict = field(default_factory=dict)
    init_scores: StaticParams | None = field(default=None, init=False)
    reference_kind: ClassVar[str] = "static"

    def __post_init__(self) -> None:
        policy = make_policy(self.policy, self.options)
        object.__setattr__(self, "options", policy.options())
        if self.class_balanced is None:
            object.__setattr__(self, "class_balanced", policy.class_balanced_ok)
        if self.score_source not in SCORE_SOURCES:
            raise ValueError(f"unknown score_source {self.score_source!r}; valid: {', '.join(SCORE_SOURCES)}")
        if self.init_from is not None and not policy.needs_scores:
            raise ValueError(f"init_from: policy {self.policy!r} uses no scores to start from")

    @property
    def uses_keep(self) -> bool:
        return make_policy(self.policy, self.options).fixed_budget

    def check(self, run: "RunConfig") -> None:
        """Dynamic runs train a number of epochs; the schedule must fit in them."""
        _epoch_budget(run, "dynamic pruning")
        if self.init_from is not None and self.init_scores is None:
            raise ValueError(f"init_from = {self.init_from!r} is not resolved: define it in the recipe's [methods]")
        if self.init_scores is not None:
            self.init_scores.check(run)
        self.pruner(1000, keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=None)

    def static_scores(self) -> StaticParams | None:
        return self.init_scores

    def reference(self) -> str | None:
        return self.init_from

    def resolved(self, target: "Method") -> "DynamicParams":
        if get_score(target.params.score).kind == "training":
            raise ValueError(f"init_from = {target.label!r}: a dynamic policy starts from finite scores, not "
                             f"{target.params.score!r} (+inf for never-learned examples)")
        out = copy.copy(self)
        object.__setattr__(out, "init_scores", target.params)
        return out

    def pruner(self, num_examples: int, *, keep: float | None, seed: int, epochs: int, labels: Any,
               policy: Policy | None = None) -> DynamicPruner:
        """The pruner of a run (class balance needs ``labels``; without them it is switched off).

        ``policy`` replaces the named policy by a policy object (the schedule stays this method's).
        """
        return DynamicPruner(
            num_examples, policy=policy or self.policy, policy_options=None if policy else self.options,
            keep=keep, period=self.period, seed=seed, epochs=epochs, labels=labels,
            class_balanced=self.class_balanced and labels is not None and policy is None,
            warmup_epochs=self.warmup_epochs, final_full_epochs=self.final_full_epochs,
        )


@dataclass(frozen=True)
class AlwaysSometimesParams(MethodParams):
    """Paper 2's Table 1: the always set plus part of the sometimes set, found in the ``source`` runs' counts.

    The selection counts of the dynamic method ``source`` (its runs with this run's configuration and seeds
    ``source_seeds``, pooled) are fitted with the three-normal mixture (``restarts`` starts); this run trains on
    the always set plus ``k - |always|`` of the sometimes set, drawn once (``mode = "static"``) or at every
    checkpoint (``"dynamic"``), on the source's schedule (period, warm-up, final full-data epochs).
    """

    source: str
    mode: str = "dynamic"
    source_seeds: tuple[int, ...] = (0,)
    restarts: int = 8
    source_params: DynamicParams | None = field(default=None, init=False)
    reference_kind: ClassVar[str] = "dynamic"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; valid: {', '.join(MODES)}")
        if not self.source_seeds or any(s < 0 for s in self.source_seeds):
            raise ValueError(f"source_seeds must be a non-empty list of seeds >= 0, got {list(self.source_seeds)}")
        _at_least("restarts", self.restarts, 1)

    def check(self, run: "RunConfig") -> None:
        """An epoch budget, and a source that runs at this run's size."""
        _epoch_budget(run, "always + sometimes")
        if self.source_params is None:
            raise ValueError(f"source = {self.source!r} is not resolved: define it in the recipe's [methods]")
        self.source_params.check(run)

    def reference(self) -> str:
        return self.source

    def resolved(self, target: "Method") -> "AlwaysSometimesParams":
        if not target.params.uses_keep:
            raise ValueError(f"source = {target.label!r}: policy {target.params.policy!r} sets its own size; "
                             "the source must select a fixed fraction")
        out = copy.copy(self)
        object.__setattr__(out, "source_params", target.params)
        return out

    def source_runs(self, run: "RunConfig") -> tuple["RunConfig", ...]:
        """The source method's runs whose counts this run pools: ``run`` with the source method and its seeds."""
        from datadiet.experiments.methods import Method

        method = Method(self.source, "dynamic", self.source_params)
        return tuple(dataclasses.replace(run, method=method, seed=s) for s in self.source_seeds)

    def required_runs(self, run: "RunConfig") -> tuple["RunConfig", ...]:
        return self.source_runs(run)
