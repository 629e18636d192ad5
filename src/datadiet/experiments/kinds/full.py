"""``full``: train on all the data (the reference every pruning method is compared with).

It takes no ``keep`` (a grid over ``keep`` gives one full-data run per seed) and costs its ``epochs`` whatever
its budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from datadiet.data import Splits
from datadiet.experiments.config import RunConfig
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext

__all__ = ["FullParams"]


@dataclass(frozen=True)
class FullParams(MethodParams):
    """All training data (the reference)."""

    @property
    def uses_keep(self) -> bool:
        return False

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        return Plan()

    def estimated_epochs(self, run: RunConfig) -> float:
        return float(run.epochs)
