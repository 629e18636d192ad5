"""``full``: train on all the data (the reference every pruning method is compared with).

It takes no ``keep`` (a grid over ``keep`` gives one full-data run per seed) and costs its ``epochs`` whatever
its budget. ``epochs = E`` trains on all the data for E epochs instead of the run's, the learning-rate schedule
compressed into them: a shorter full-data run, the baseline a pruning method must beat to save time (it is
compared with full data on the run's own schedule like any other method, never used as the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datadiet.data import Splits
from datadiet.experiments.config import IF_SET, RunConfig
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, positive

__all__ = ["FullParams"]


@dataclass(frozen=True)
class FullParams(MethodParams):
    """All training data: the reference, or with ``epochs`` a full-data run on a schedule of its own."""

    epochs: int | None = field(default=None, metadata=IF_SET)

    def __post_init__(self) -> None:
        positive(epochs=self.epochs)

    @property
    def uses_keep(self) -> bool:
        return False

    @property
    def is_reference(self) -> bool:
        return self.epochs is None

    def run_epochs(self, run: RunConfig) -> int:
        return run.epochs if self.epochs is None else self.epochs

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        return Plan()

    def estimated_epochs(self, run: RunConfig) -> float:
        return float(self.run_epochs(run))
