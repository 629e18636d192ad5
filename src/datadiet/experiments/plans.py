"""What each method kind does before training: which examples, which callbacks, what scoring it is charged.

:func:`make_plan` dispatches on the method's parameter class (see :mod:`datadiet.experiments.params`); every
choice comes from the library: :mod:`datadiet.selection` rules, cached :mod:`datadiet.scores`, and the
:mod:`datadiet.dynamic` pruner as a trainer callback (its selection counts are kept when the run ends, see
:mod:`datadiet.experiments.counts`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import singledispatch
from pathlib import Path

import numpy as np
import torch

from datadiet.data import Splits
from datadiet.dynamic import AlwaysPlusSometimes, DynamicPruner
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import pooled_counts
from datadiet.experiments.params import AlwaysSometimesParams, DynamicParams, FullParams, RandomParams, StaticParams
from datadiet.experiments.scoring import ScoreCache, ensure_scores, score_need
from datadiet.scores import ScoreFile
from datadiet.files import atomic_write
from datadiet.selection import ccs, keep_highest, keep_lowest, random_subset, save_subset, sliding_window
from datadiet.selection import subset_from_positions
from datadiet.training.dynamic_pruning import DynamicPruningCallback

__all__ = ["Plan", "PlanContext", "make_plan", "run_scores"]


@dataclass(frozen=True)
class PlanContext:
    """Where a run keeps its files and finds cached scores, and the device it trains on."""

    run_dir: Path
    cache: ScoreCache
    device: torch.device | str | None = None

    def run_dir_of(self, run: RunConfig) -> Path:
        """The folder of another run of the same experiment (run folders are siblings)."""
        return self.run_dir.parent / run.run_id


@dataclass
class Plan:
    """How to train: ``subset`` positions (None = all), trainer ``callbacks``, and static scoring charged.

    ``scoring_seconds`` / ``scoring_samples``: the cost of the cached scores this run uses (see
    :mod:`datadiet.experiments.scoring`); ``notes`` go into the run's metrics; ``pruner``: the dynamic pruner
    whose selection counts are kept when the run ends.
    """

    subset: np.ndarray | None = None
    callbacks: list = field(default_factory=list)
    scoring_seconds: float = 0.0
    scoring_samples: int = 0
    notes: dict = field(default_factory=dict)
    pruner: DynamicPruner | None = None


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


def run_scores(run: RunConfig, splits: Splits, context: PlanContext) -> tuple[ScoreFile, Plan]:
    """The run's cached static scores (computed here if missing) and a plan charged with their cost."""
    need = score_need(run)
    if not context.cache.has(need.key):
        ensure_scores(need, context.cache, context.device)
    scores, record = context.cache.load(need.key)
    scores.check_against(splits.train)
    return scores, Plan(scoring_seconds=record["seconds"], scoring_samples=record["samples"],
                        notes={"score_key": need.key})


@make_plan.register
def _static(params: StaticParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    train = splits.train
    scores, plan = run_scores(run, splits, context)
    labels = train.y.numpy() if params.class_balanced else None
    plan.subset = _select(params, scores.mean, run.keep, run.seed, labels)
    _save(context, plan.subset, train, params.rule, {"keep": run.keep, **dataclasses.asdict(params)},
          seed=run.seed, scores=scores.metadata())
    return plan


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
    pruner = params.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=train.y)
    plan = Plan()
    if params.init_scores is not None:
        scores, plan = run_scores(run, splits, context)
        pruner.start_from(scores.mean)
    return _pruned(plan, pruner, params.score_source, splits, context)


def _pruned(plan: Plan, pruner: DynamicPruner, source: str, splits: Splits, context: PlanContext) -> Plan:
    plan.callbacks = [DynamicPruningCallback(pruner, splits.train, score_source=source, device=context.device)]
    plan.pruner = pruner
    return plan


@make_plan.register
def _always_sometimes(params: AlwaysSometimesParams, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
    train = splits.train
    pooled = pooled_counts([context.run_dir_of(r) for r in params.source_runs(run)], restarts=params.restarts)
    if len(pooled.counts) != len(train):
        raise ValueError(f"the source runs counted {len(pooled.counts)} examples, the training set has {len(train)}")
    groups = pooled.groups()
    policy = AlwaysPlusSometimes(groups["always"], groups["sometimes"], mode=params.mode, seed=run.seed)
    pruner = params.source_params.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs,
                                         labels=None, policy=policy)
    _save_groups(context.run_dir, groups, pooled.upper)
    plan = Plan(notes={f"num_{name}": int(len(p)) for name, p in groups.items()})
    return _pruned(plan, pruner, params.source_params.score_source, splits, context)


def _save_groups(run_dir: Path, groups: dict[str, np.ndarray], upper: int) -> None:
    """Keep the always / sometimes / never positions the run used (``groups.npz``, no pickle)."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, upper=np.int64(upper), **groups)

    atomic_write(run_dir / "groups.npz", write)


def _save(context: PlanContext, positions: np.ndarray, train, rule: str, params: dict, **provenance) -> None:
    """Keep the selected subset with its provenance in the run's folder."""
    subset = subset_from_positions(positions, train, rule=rule, params=params, **provenance)
    save_subset(subset, context.run_dir / "subset.npy")
