"""InfoBatch (Qin et al., ICLR 2024, "InfoBatch: Lossless Training Speed Up by Unbiased Dynamic Data Pruning").

At each checkpoint, examples whose last loss is below the mean loss are "well learned"; a random fraction ``r`` of
them is dropped (``floor((1 - r) n_low)`` kept, as the reference implementation does) and the loss of each kept
low-loss example is multiplied by ``1 / (1 - r)`` so the expected gradient is unchanged. High-loss examples are
always kept, with weight 1. The final ``delta`` fraction of epochs trains on all data. Examples never scored
count as high-loss (kept) and do not enter the mean, so the first epoch trains on all data.

The paper's rule is the policy's default schedule (``default_*``, used by the pruner and the training callbacks
when the caller leaves them unset): a checkpoint every epoch (``period=1``), no warm-up, and the losses of the
previous epochs' training forward passes (``score_source="batch"``: no scoring pass; an example pruned from an
epoch keeps its last loss). A scoring pass, a longer period or a warm-up are variants the caller can ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import torch

from datadiet.dynamic.base import Group, Policy, Selection, check_range
from datadiet.dynamic.tracker import LossTracker

__all__ = ["InfoBatch", "infobatch_prune", "infobatch_size"]


def _low_mask(scores: torch.Tensor) -> torch.Tensor:
    """Examples whose score is below the mean of the scored ones, ``(N,)`` bool."""
    seen = ~torch.isnan(scores)
    if not bool(seen.any()):
        return torch.zeros_like(seen)
    return seen & (scores < scores[seen].mean())


def infobatch_size(scores: torch.Tensor, r: float) -> int:
    """How many examples :func:`infobatch_prune` keeps for these scores (deterministic)."""
    n_low = int(_low_mask(scores).sum())
    return len(scores) - n_low + int((1 - r) * n_low)


def infobatch_prune(scores: torch.Tensor, r: float, generator: torch.Generator) -> Selection:
    """InfoBatch's rule on last losses ``scores`` ``(N,)`` (NaN = never scored).

    Returns the kept positions in increasing order, with weight ``1 / (1 - r)`` on kept below-mean examples and
    1 elsewhere.
    """
    low = _low_mask(scores)
    low_positions = low.nonzero().squeeze(1)
    n_keep = int((1 - r) * len(low_positions))
    kept_low = low_positions[torch.randperm(len(low_positions), generator=generator)[:n_keep]]
    keep = ~low
    keep[kept_low] = True
    positions = keep.nonzero().squeeze(1)
    weights = torch.ones(len(scores))
    weights[kept_low] = 1.0 / (1.0 - r)
    return Selection(positions, weights[positions])


@dataclass(frozen=True)
class InfoBatch(Policy):
    """InfoBatch as a policy: prune ratio ``r`` of the low-loss examples, full data for the final ``delta``."""

    r: float = 0.5
    delta: float = 0.125
    name = "infobatch"
    fixed_budget = False
    class_balanced_ok = False
    reweights = True
    default_period = 1
    default_warmup_epochs = 0
    default_score_source = "batch"

    def __post_init__(self) -> None:
        check_range("r", self.r, 0.0, 1.0, low_open=False, high_open=True)
        check_range("delta", self.delta, 0.0, 1.0, low_open=False, high_open=True)

    @property
    def final_fraction(self) -> float:
        return self.delta

    def select(
        self, tracker: LossTracker, k: int | None, generator: torch.Generator, groups: Sequence[Group]
    ) -> Selection:
        return infobatch_prune(tracker.latest, self.r, generator)

    def expected_size(self, tracker: LossTracker, k: int | None) -> int:
        """Number of examples a selection made from the current losses would keep."""
        return infobatch_size(tracker.latest, self.r)
