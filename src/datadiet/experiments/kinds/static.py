"""``static``: scores computed once, before training, then a selection rule keeps a subset (paper 1).

Scores (``el2n``, ``grand``, ``forgetting``, ``loss``, ``margin``, ``input_norm``, ...) are averaged over
``runs`` independent runs at epoch ``at`` of the run's schedule (0 = initialization, omitted = the end), then a
selection rule of :data:`datadiet.selection.RULES` keeps ``keep * N`` examples: ``keep_highest``, ``keep_lowest``,
``sliding_window`` (drop the lowest ``offset``, keep the next ``keep``), ``ccs`` (hard cut ``beta``, ``strata``)
or ``random``, optionally class-balanced. The
scoring runs use seeds ``score_seed .. score_seed + runs - 1`` whatever the run's seed, so every seed and every
fraction of an experiment shares one set of cached scores (:mod:`datadiet.experiments.scoring`), whose cost is
charged to each run that uses it. ``proxy = "basic_cnn"`` (with ``proxy_width``) computes the scores with that
network instead of the trained one (paper 2, Fig. 22). The subset is kept in the run's folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from datadiet.data import Splits
from datadiet.experiments.config import ModelConfig, RunConfig
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, at_least, run_scores, save_positions
from datadiet.scores import get_score
from datadiet.selection import get_rule, select

__all__ = ["StaticParams"]


def _fraction(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value}")


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
        get_rule(self.rule)
        if self.at is not None:
            at_least("at", self.at, 1 if kind == "training" else 0)
        at_least("runs", self.runs, 1)
        at_least("score_seed", self.score_seed, 0)
        at_least("strata", self.strata, 1)
        _fraction("offset", self.offset)
        _fraction("beta", self.beta)
        if self.proxy is not None:
            ModelConfig(self.proxy, self.proxy_width)

    def check(self, run: RunConfig) -> None:
        """The time point must fall in the run's schedule and the rule's fractions must fit."""
        if self.at is not None and self.at > run.epochs:
            raise ValueError(f"at = {self.at} is past the end of the {run.epochs}-epoch schedule")
        if run.keep is None:  # a dynamic policy that sets its own size starts from the scores, not the rule
            return
        if self.rule == "sliding_window" and self.offset + run.keep > 1 + 1e-9:
            raise ValueError(f"sliding_window needs offset + keep <= 1, got {self.offset} + {run.keep}")
        if self.rule == "ccs" and self.beta + run.keep > 1 + 1e-9:
            raise ValueError(f"ccs needs beta + keep <= 1, got {self.beta} + {run.keep}")

    def static_scores(self) -> StaticParams:
        return self

    def time_point(self, epochs: int) -> int:
        """The scoring epoch: ``at``, or the end of an ``epochs``-epoch schedule."""
        return epochs if self.at is None else self.at

    def score_model(self, trained: ModelConfig) -> ModelConfig:
        """The network that computes the scores: the proxy, or the ``trained`` one."""
        return trained if self.proxy is None else ModelConfig(self.proxy, self.proxy_width)

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """The subset the rule keeps from the cached scores (computed first if missing)."""
        train = splits.train
        scores, plan = run_scores(run, splits, context)
        labels = train.y.numpy() if self.class_balanced else None
        plan.subset = self.select(scores.mean, run.keep_fraction, run.seed, labels)
        save_positions(context, plan.subset, train, self.rule, {"keep": run.keep, **dataclasses.asdict(self)},
                       seed=run.seed, scores=scores.metadata())
        return plan

    def select(self, scores: np.ndarray, keep: float, seed: int, labels: np.ndarray | None) -> np.ndarray:
        """Positions the rule keeps of ``scores`` ``(N,)`` (per class when ``labels`` are given)."""
        rule = get_rule(self.rule)
        options = {name: getattr(self, name) for name in rule.options}
        return select(scores, keep, rule=self.rule, labels=labels, seed=seed if rule.random else None, **options)
