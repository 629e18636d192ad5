"""``random``: a static uniformly random subset of ``keep * N`` examples, drawn from the run's seed (per class
with ``class_balanced``); the subset is kept in the run's folder with its provenance."""

from __future__ import annotations

from dataclasses import dataclass

from datadiet.data import Splits
from datadiet.experiments.config import RunConfig
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, save_positions
from datadiet.selection import random_subset

__all__ = ["RandomParams"]


@dataclass(frozen=True)
class RandomParams(MethodParams):
    """A static uniform subset of ``keep * N`` examples, per class with ``class_balanced``."""

    class_balanced: bool = False

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        train = splits.train
        labels = train.y.numpy() if self.class_balanced else None
        positions = random_subset(len(train), run.keep_fraction, seed=run.seed, labels=labels)
        save_positions(context, positions, train, "random_subset",
                       {"keep": run.keep, "class_balanced": self.class_balanced}, seed=run.seed)
        return Plan(subset=positions)
