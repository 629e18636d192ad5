"""``always_sometimes``: paper 2's Table 1, a new initialization trained on what a dynamic run selected.

``source = "LABEL"`` names a dynamic method (paper: uncertainty + EMA at 70% pruned) whose runs, with this run's
configuration and seeds ``source_seeds``, join the experiment and run first. The run then trains on the source's
schedule (period, warm-up, final full-data epochs) on

- ``mode = "static"``, the paper's static row: the top k by the source runs' **final checkpoint's scores** (the
  priority their last selection was made by, :mod:`datadiet.experiments.checkpoint_scores`, averaged over the
  source seeds), the same subset at every checkpoint; the source must rank by training losses;
- ``mode = "dynamic"``: the **always** set plus a fresh uniform draw from the **rest** (every example not always:
  sometimes and never) at each checkpoint filling the budget k, as the paper's dynamic row; ``fill =
  "sometimes"`` draws from the sometimes set alone. The sets come from the source runs' pooled selection counts
  fitted with the integer-count mixture (``restarts`` starts) and are kept in the run's folder (``groups.npz``).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from datadiet.data import Splits
from datadiet.dynamic import AlwaysPlusSometimes
from datadiet.dynamic.policies import StaticTopK
from datadiet.experiments.checkpoint_scores import load_checkpoint_scores
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import pooled_counts
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, at_least, epoch_budget
from datadiet.experiments.kinds.dynamic import DynamicParams, pruned_epochs, with_pruner
from datadiet.experiments.layout import GROUPS_FILE
from datadiet.files import atomic_write

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method

__all__ = ["AlwaysSometimesParams", "FILLS", "MODES", "fill_pool"]

MODES = ("static", "dynamic")
FILLS = ("rest", "sometimes")


def fill_pool(groups: dict[str, np.ndarray], fill: str) -> np.ndarray:
    """Positions the dynamic arm fills its budget from, increasing: every example not in ``groups["always"]``
    (``fill = "rest"``, the union of the sometimes and never sets) or ``groups["sometimes"]`` alone."""
    if fill == "sometimes":
        return np.sort(groups["sometimes"])
    return np.sort(np.concatenate([groups["sometimes"], groups["never"]]))


@dataclass(frozen=True)
class AlwaysSometimesParams(MethodParams):
    """Paper 2's Table 1 from the runs of the dynamic method ``source`` (seeds ``source_seeds``), on its schedule.

    ``mode = "static"``: the top k by the source runs' final checkpoint scores (averaged over the runs), the same
    subset at every checkpoint (class-balanced if the source is). ``"dynamic"``: the always set plus ``k - |always|``
    examples drawn afresh at every checkpoint from the rest (``fill = "rest"``: sometimes and never) or from the
    sometimes set alone (``fill = "sometimes"``), the sets from the source runs' pooled selection counts fitted with
    the integer-count mixture (``restarts`` starts).
    """

    source: str
    mode: str = "dynamic"
    fill: str = "rest"
    source_seeds: tuple[int, ...] = (0,)
    restarts: int = 8
    source_params: DynamicParams | None = field(default=None, init=False)
    reference_kind: ClassVar[str] = "dynamic"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; valid: {', '.join(MODES)}")
        if self.fill not in FILLS:
            raise ValueError(f"unknown fill {self.fill!r}; valid: {', '.join(FILLS)}")
        if not self.source_seeds or any(s < 0 for s in self.source_seeds):
            raise ValueError(f"source_seeds must be a non-empty list of seeds >= 0, got {list(self.source_seeds)}")
        at_least("restarts", self.restarts, 1)

    def check(self, run: RunConfig) -> None:
        """An epoch budget, and a source that runs at this run's size."""
        epoch_budget(run, "always + sometimes")
        if self.source_params is None:
            raise ValueError(f"source = {self.source!r} is not resolved: define it in the recipe's [methods]")
        self.source_params.check(run)

    def reference(self) -> str:
        return self.source

    def resolved(self, target: Method) -> AlwaysSometimesParams:
        if not target.params.uses_keep:
            raise ValueError(f"source = {target.label!r}: policy {target.params.policy!r} sets its own size; "
                             "the source must select a fixed fraction")
        if self.mode == "static" and not target.params.ranks_by_losses:
            raise ValueError(f"source = {target.label!r}: policy {target.params.policy!r} ranks by no training "
                             "losses; the static arm takes the top k by the source's final checkpoint scores")
        out = copy.copy(self)
        object.__setattr__(out, "source_params", target.params)
        return out

    def source_runs(self, run: RunConfig) -> tuple[RunConfig, ...]:
        """The source method's runs whose counts this run pools: ``run`` with the source method and its seeds."""
        from datadiet.experiments.methods import Method

        method = Method(self.source, "dynamic", self.source_params)
        return tuple(dataclasses.replace(run, method=method, seed=s) for s in self.source_seeds)

    def required_runs(self, run: RunConfig) -> tuple[RunConfig, ...]:
        return self.source_runs(run)

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """The static or the always + sometimes arm on the source's schedule, from the source runs' files."""
        if self.mode == "static":
            return self._static_plan(run, splits, context)
        train = splits.train
        pooled = pooled_counts([context.run_dir_of(r) for r in self.source_runs(run)], restarts=self.restarts)
        if len(pooled.counts) != len(train):
            raise ValueError(f"the source runs counted {len(pooled.counts)} examples, the training set has "
                             f"{len(train)}")
        groups = pooled.groups()
        policy = AlwaysPlusSometimes(torch.as_tensor(groups["always"]), torch.as_tensor(fill_pool(groups, self.fill)),
                                     mode="dynamic", seed=run.seed)
        source = self._source()
        pruner = source.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=None,
                               policy=policy)
        _save_groups(context.run_dir, groups, pooled.upper)
        plan = Plan(notes={f"num_{name}": int(len(p)) for name, p in groups.items()})
        return with_pruner(plan, pruner, source, splits, context)

    def _static_plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """The top k by the source runs' final checkpoint scores, the same at every checkpoint."""
        train, source = splits.train, self._source()
        final, epochs = _final_scores([context.run_dir_of(r) for r in self.source_runs(run)], len(train))
        pruner = source.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=train.y,
                               policy=StaticTopK(final))
        last = pruner.schedule.checkpoints()[-1]
        if any(epoch != last for epoch in epochs):
            raise ValueError(f"the source runs kept the scores of the checkpoints at epochs {epochs}; the static arm "
                             f"needs those of the final checkpoint (epoch {last})")
        return with_pruner(Plan(), pruner, source, splits, context)

    def estimated_epochs(self, run: RunConfig) -> float:
        """The source's schedule at this run's size; the policy needs no scoring pass."""
        return pruned_epochs(self._source(), run, pass_share=0.0)

    def _source(self) -> DynamicParams:
        assert self.source_params is not None  # check() refuses a run whose source is not resolved
        return self.source_params


def _final_scores(run_dirs: list[Path], num_examples: int) -> tuple[torch.Tensor, list[int]]:
    """The latest checkpoint scores of the runs in ``run_dirs``, one row each ``(R, N)``, and their epochs;
    ``ValueError`` if a run scored another number of examples."""
    loaded = [load_checkpoint_scores(run_dir) for run_dir in run_dirs]
    for run_dir, (scores, _) in zip(run_dirs, loaded):
        if len(scores) != num_examples:
            raise ValueError(f"the source run in {run_dir} scored {len(scores)} examples, the training set has "
                             f"{num_examples}")
    return torch.stack([scores for scores, _ in loaded]), [epoch for _, epoch in loaded]


def _save_groups(run_dir: Path, groups: dict[str, np.ndarray], upper: int) -> None:
    """Keep the always / sometimes / never positions the run used (``groups.npz``, no pickle)."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, upper=np.int64(upper), **groups)  # type: ignore[arg-type]  # numpy's stub: see allow_pickle

    atomic_write(run_dir / GROUPS_FILE, write)
