"""``static``: scores computed once, before training, then a selection rule keeps a subset (paper 1).

Scores (``el2n``, ``grand``, ``forgetting``, ``loss``, ``margin``, ``input_norm``, ...) are averaged over
``runs`` independent runs at epoch ``at`` of the run's schedule (0 = initialization, omitted = the end), then a
selection rule of :data:`datadiet.selection.RULES` keeps ``keep * N`` examples: ``keep_highest``, ``keep_lowest``,
``sliding_window`` (drop the lowest ``offset``, keep the next ``keep``), ``ccs`` (hard cut ``beta``, ``strata``),
``random``, or a rule on embeddings (``kcenter``, ``herding``, ``facility_location``, ``d2``, ``prototypes``,
``moderate``), optionally class-balanced. A rule's other options sit beside these keys in the recipe's table
(``k = 5`` for D2, ``clusters = 10`` for prototypes) and are stored completed with the rule's defaults
(``rule_options``); ``score_options`` go to the score (``window`` of Dyn-Unc, DUAL and TDDS).

The scoring runs use seeds ``score_seed .. score_seed + runs - 1`` whatever the run's seed, so every seed and
every fraction of an experiment shares one set of cached scores (:mod:`datadiet.experiments.scoring`), whose cost
is charged to each run that uses it. A rule that needs embeddings takes the penultimate features of the **first
scoring run's network** (seed ``score_seed``, at epoch ``at``), computed and cached with the scores; the
embedding pass is part of their cost. The time the rule takes to choose is charged to the run too
(``selection_seconds``, inside ``static_scoring_seconds``). ``proxy = "basic_cnn"`` (with ``proxy_width``)
computes the scores (and embeddings) with that network instead of the trained one (paper 2, Fig. 22). The subset
is kept in the run's folder.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from datadiet.data import Splits
from datadiet.experiments.config import IF_SET, ModelConfig, RunConfig
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, at_least, run_scores, save_positions
from datadiet.experiments.values import build, check_keys, coerce
from datadiet.scores import get_score
from datadiet.selection import SelectionRule, get_rule, select

__all__ = ["StaticParams"]


def _fraction(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value}")


@dataclass(frozen=True)
class StaticParams(MethodParams):
    """Scores averaged over ``runs`` runs at epoch ``at`` (0 = init, None = end), then a selection ``rule``.

    ``proxy`` (a model name, at ``proxy_width``) computes the scores with another network than the one trained.
    ``rule_options``: the rule's options that are not fields here (completed with the rule's defaults);
    ``score_options``: the score's options. Both are part of a run's identity only when set.
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
    score_options: dict = field(default_factory=dict, metadata=IF_SET)
    rule_options: dict = field(default_factory=dict, metadata=IF_SET)

    def __post_init__(self) -> None:
        spec = get_score(self.score)
        spec.check_options(self.score_options)
        if self.at is not None:
            at_least("at", self.at, 1 if spec.kind == "training" else 0)
            self._recorded_enough(self.at)
        at_least("runs", self.runs, 1)
        at_least("score_seed", self.score_seed, 0)
        at_least("strata", self.strata, 1)
        _fraction("offset", self.offset)
        _fraction("beta", self.beta)
        if self.proxy is not None:
            ModelConfig(self.proxy, self.proxy_width)
        object.__setattr__(self, "rule_options", _rule_options(get_rule(self.rule), self.rule_options))
        if self.uses_embeddings and spec.kind == "data":
            raise ValueError(f"rule {self.rule!r} takes the embeddings of the scoring network, and score "
                             f"{self.score!r} uses none: choose a score computed by a network (el2n, loss, ...)")

    @classmethod
    def from_table(cls, table: dict, where: str) -> StaticParams:
        """The parameters from a recipe table whose keys are the fields and the options of its ``rule``."""
        rule = get_rule(coerce(table.get("rule", "keep_highest"), str, f"{where}.rule"))
        fields = [f.name for f in dataclasses.fields(cls) if f.name != "rule_options"]
        own = [name for name in rule.options if name not in fields]
        check_keys(table, [*fields, *own], where)
        values = {k: v for k, v in table.items() if k in fields}
        return build(cls, {**values, "rule_options": {k: v for k, v in table.items() if k in own}}, where)

    @property
    def uses_embeddings(self) -> bool:
        """Whether the rule selects from embeddings (those of the first scoring run's network)."""
        return "embeddings" in get_rule(self.rule).needs

    def check(self, run: RunConfig) -> None:
        """The time point must fall in the run's schedule and the rule's fractions must fit."""
        if self.at is not None and self.at > run.epochs:
            raise ValueError(f"at = {self.at} is past the end of the {run.epochs}-epoch schedule")
        self._recorded_enough(self.time_point(run.epochs))
        if run.keep is None:  # a dynamic policy that sets its own size starts from the scores, not the rule
            return
        if self.rule == "sliding_window" and self.offset + run.keep > 1 + 1e-9:
            raise ValueError(f"sliding_window needs offset + keep <= 1, got {self.offset} + {run.keep}")
        if self.rule == "ccs" and self.beta + run.keep > 1 + 1e-9:
            raise ValueError(f"ccs needs beta + keep <= 1, got {self.beta} + {run.keep}")

    def _recorded_enough(self, epochs: int) -> None:
        """A training score's runs must record at least the epochs it needs (its ``window``)."""
        spec = get_score(self.score)
        needed = spec.epochs_needed(self.score_options)
        if spec.kind == "training" and epochs < needed:
            raise ValueError(f"score {self.score!r} needs a recording of at least {needed} epochs, its runs stop at "
                             f"epoch {epochs}: set a smaller window in score_options or a later at")

    def static_scores(self) -> StaticParams:
        return self

    def time_point(self, epochs: int) -> int:
        """The scoring epoch: ``at``, or the end of an ``epochs``-epoch schedule."""
        return epochs if self.at is None else self.at

    def score_model(self, trained: ModelConfig) -> ModelConfig:
        """The network that computes the scores: the proxy, or the ``trained`` one."""
        return trained if self.proxy is None else ModelConfig(self.proxy, self.proxy_width)

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """The subset the rule keeps from the cached scores (computed first if missing), the time it took to
        choose charged to the run."""
        train = splits.train
        scores, plan = run_scores(run, splits, context)
        embeddings = context.cache.embeddings(plan.notes["score_key"], len(train)) if self.uses_embeddings else None
        start = time.perf_counter()
        # The greedy rules multiply one small block per step; threaded BLAS made k-center over 100x slower on a
        # busy 2-core CPU (8,000 x 64 embeddings, four fractions: 1.6 s of CPU with one thread).
        with threadpool_limits(limits=1, user_api="blas"):
            plan.subset = self.select(scores.mean, run.keep_fraction, run.seed, train.y.numpy(), embeddings)
        seconds = time.perf_counter() - start
        plan.scoring_seconds += seconds
        plan.notes["selection_seconds"] = seconds
        save_positions(context, plan.subset, train, self.rule, {"keep": run.keep, **dataclasses.asdict(self)},
                       seed=run.seed, scores=scores.metadata())
        return plan

    def select(self, scores: np.ndarray, keep: float, seed: int, labels: np.ndarray,
               embeddings: np.ndarray | None = None) -> np.ndarray:
        """Positions the rule keeps of ``scores`` ``(N,)`` (and ``embeddings`` ``(N, D)``); ``labels`` ``(N,)`` are
        given to the rule when it is class-balanced or needs them (``moderate``)."""
        rule = get_rule(self.rule)
        options = {name: self.rule_options[name] if name in self.rule_options else getattr(self, name)
                   for name in rule.options}
        given = labels if self.class_balanced or "labels" in rule.needs else None
        return select(scores, keep, rule=self.rule, labels=given, seed=seed if rule.random else None,
                      embeddings=embeddings, **options)


def _rule_options(rule: SelectionRule, given: dict) -> dict:
    """The rule's options that are not fields of :class:`StaticParams`, completed with the rule's defaults."""
    own = {name: default for name, default in rule.options.items() if name not in _FIELDS}
    check_keys(given, own, f"the options of rule {rule.name!r}")
    missing = [name for name, default in own.items() if default is None and name not in given]
    if missing:
        raise ValueError(f"rule {rule.name!r} needs the option {missing[0]!r}")
    return {name: _option(name, given.get(name, default), default) for name, default in own.items()}


def _option(name: str, value: object, default: object) -> object:
    """``value`` of the option ``name`` normalized to the type of its ``default`` (None: any scalar)."""
    if default is None:
        return coerce(value, bool | int | float | str, name)
    return coerce(value, type(default), name)


_FIELDS = frozenset(f.name for f in dataclasses.fields(StaticParams))
