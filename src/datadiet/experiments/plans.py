"""What each method kind does before training: which examples, which callbacks, what scoring it is charged.

:func:`make_plan` dispatches on the method's parameter class (see :mod:`datadiet.experiments.methods`); every
choice comes from the library: :mod:`datadiet.selection` rules, cached :mod:`datadiet.scores`, and the
:mod:`datadiet.dynamic` pruner as a trainer callback.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import singledispatch
from pathlib import Path

import numpy as np
import torch

from datadiet.data import Splits
from datadiet.dynamic import DynamicPruningCallback
from datadiet.experiments.config import RunConfig
from datadiet.experiments.methods import DynamicParams, FullParams, RandomParams, StaticParams
from datadiet.experiments.scoring import ScoreCache, ensure_scores, score_need
from datadiet.selection import ccs, keep_highest, keep_lowest, random_subset, save_subset, sliding_window
from datadiet.selection import subset_from_positions

__all__ = ["Plan", "PlanContext", "make_plan"]


@dataclass(frozen=True)
class PlanContext:
    """Where a run keeps its files and finds cached scores, and the device it trains on."""

    run_dir: Path
    cache: ScoreCache
    device: torch.device | str | None = None


@dataclass
class Plan:
    """How to train: ``subset`` positions (None = all), trainer ``callbacks``, and static scoring charged.

    ``scoring_seconds`` / ``scoring_samples``: the cost of the cached scores this run uses (see
    :mod:`datadiet.experiments.scoring`); ``notes`` go into the run's metrics.
    """

    subset: np.ndarray | None = None
    callbacks: list = field(default_factory=list)
    scoring_seconds: float = 0.0
    scoring_samples: int = 0
    notes: dict = field(default_factory=dict)


@singledispatch
def make_plan(params: object, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    """The plan of ``run`` (``params`` is ``run.method.params``)."""
    raise ValueError(f"no plan for method parameters of type {type(params).__name__}")


@make_plan.register
def _full(params: FullParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    return Plan()


@make_plan.register
def _random(params: RandomParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    train = splits.train
    labels = train.y.numpy() if params.class_balanced else None
    positions = random_subset(len(train), run.keep, seed=run.seed, labels=labels)
    _save(context, positions, train, "random_subset", {"keep": run.keep, "class_balanced": params.class_balanced},
          seed=run.seed)
    return Plan(subset=positions)


@make_plan.register
def _static(params: StaticParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    train, need = splits.train, score_need(run)
    if not context.cache.has(need.key):
        ensure_scores(need, context.cache, context.device)
    scores, record = context.cache.load(need.key)
    scores.check_against(train)
    labels = train.y.numpy() if params.class_balanced else None
    positions = _select(params, scores.mean, run.keep, run.seed, labels)
    _save(context, positions, train, params.rule, {"keep": run.keep, **dataclasses.asdict(params)}, seed=run.seed,
          scores=scores.metadata())
    return Plan(subset=positions, scoring_seconds=record["seconds"], scoring_samples=record["samples"],
                notes={"score_key": need.key})


def _select(params: StaticParams, scores: np.ndarray, keep: float, seed: int, labels: np.ndarray | None) -> np.ndarray:
    if params.rule == "keep_highest":
        return keep_highest(scores, keep, labels=labels)
    if params.rule == "keep_lowest":
        return keep_lowest(scores, keep, labels=labels)
    if params.rule == "sliding_window":
        return sliding_window(scores, offset=params.offset, size=keep, labels=labels)
    return ccs(scores, keep, beta=params.beta, strata=params.strata, seed=seed, labels=labels)


@make_plan.register
def _dynamic(params: DynamicParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    train = splits.train
    pruner = params.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.epochs, labels=train.y)
    callback = DynamicPruningCallback(pruner, train, score_source=params.score_source, device=context.device)
    return Plan(callbacks=[callback])


def _save(context: PlanContext, positions: np.ndarray, train, rule: str, params: dict, **provenance) -> None:
    """Keep the selected subset with its provenance in the run's folder."""
    subset = subset_from_positions(positions, train, rule=rule, params=params, **provenance)
    save_subset(subset, context.run_dir / "subset.npy")
