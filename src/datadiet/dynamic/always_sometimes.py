"""Table 1 of Raju et al.: train on the "always" examples plus part of the "sometimes" ones.

The always set is kept at every checkpoint; the rest of the budget k is drawn uniformly from the sometimes set
(any pool of positions disjoint from the always set: paper 2's dynamic row draws from every example not always),
afresh at each checkpoint (``mode="dynamic"``, the table's dynamic row: from the pruner's per-checkpoint
generator) or once for the whole run (``mode="static"``: the same draw at every checkpoint, from ``seed`` alone; the
table's static row is another rule, the top k by the final checkpoint's scores:
:class:`~datadiet.dynamic.policies.StaticTopK`). Get the two sets from
:meth:`datadiet.dynamic.selection_counts.SelectionMixture.groups`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np
import torch

from datadiet.dynamic.base import Group, Policy, Selection
from datadiet.dynamic.rules import random_k
from datadiet.dynamic.tracker import LossTracker

__all__ = ["AlwaysPlusSometimes", "MODES"]

MODES = ("static", "dynamic")


@dataclass(frozen=True, eq=False)
class AlwaysPlusSometimes(Policy):
    """Always set ``(a,)`` plus ``k - a`` positions drawn from the sometimes set ``(s,)`` (disjoint positions)."""

    always: torch.Tensor = field(repr=False)
    sometimes: torch.Tensor = field(repr=False)
    mode: str = "dynamic"
    seed: int = 0
    name = "always+sometimes"
    needs_scores = False
    class_balanced_ok = False

    def __post_init__(self) -> None:
        for attr in ("always", "sometimes"):
            object.__setattr__(self, attr, torch.as_tensor(np.asarray(getattr(self, attr)), dtype=torch.long))
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; valid: {', '.join(MODES)}")
        both = torch.cat([self.always, self.sometimes])
        if len(torch.unique(both)) != len(both):
            raise ValueError("always and sometimes positions must be distinct and disjoint")

    def check(self, num_examples: int, k: int | None) -> None:
        both = torch.cat([self.always, self.sometimes])
        if len(both) and (int(both.min()) < 0 or int(both.max()) >= num_examples):
            raise ValueError(f"always/sometimes positions must be in [0, {num_examples})")
        low, high = len(self.always), len(self.always) + len(self.sometimes)
        if k is None or not low <= k <= high:
            raise ValueError(f"the budget k={k} must lie in [{low}, {high}]: the always set plus part of the "
                             "sometimes set")

    def select(
        self, tracker: LossTracker, k: int | None, generator: torch.Generator, groups: Sequence[Group]
    ) -> Selection:
        assert k is not None  # check() refuses a policy without a budget
        draw = torch.Generator().manual_seed(self.seed) if self.mode == "static" else generator
        extra = self.sometimes[random_k(len(self.sometimes), k - len(self.always), draw)]
        return Selection.unweighted(torch.cat([self.always, extra]))

    def options(self) -> dict:
        return {"mode": self.mode, "seed": self.seed, "num_always": len(self.always),
                "num_sometimes": len(self.sometimes)}
