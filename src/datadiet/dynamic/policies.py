"""The selection criteria of Raju, Daruwalla & Lipasti, "Accelerating Deep Learning with Dynamic Data Pruning".

Each keeps exactly k examples per checkpoint (or each class's share of k when selection is class-balanced),
ranking by a priority computed from the :class:`LossTracker` (**high priority = kept**):

- ``random``: uniform k, no scores needed.
- ``uncertainty``: the current loss s.
- ``uncertainty-ema``: s_ema = a s + (1 - a) s_ema_prev (paper: a = 0.8).
- ``egreedy``: (1 - eps) k by s_ema, eps k uniformly from the rest.
- ``ucb``: s_ema + c var, var = (1 - a) var_prev + a (s - s_ema_prev)^2, initial variance 0.

Hyper-parameter defaults: a = 0.8 is the paper's. eps = 0.1 and c = 1.0 are our choices: the paper sweeps both
(its App. F) and we could not confirm the value it settles on; set them explicitly when reproducing a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import torch

from datadiet.dynamic.base import Group, Policy, Selection, check_range
from datadiet.dynamic.rules import VARIANCE_MODES, epsilon_greedy, random_k, top_k, ucb_priority
from datadiet.dynamic.tracker import LossTracker

__all__ = ["EpsilonGreedy", "RandomDynamic", "RankingPolicy", "UCB", "Uncertainty", "UncertaintyEMA"]


def _check_alpha(alpha: float) -> None:
    check_range("alpha", alpha, 0.0, 1.0, low_open=True, high_open=False)


class RankingPolicy(Policy):
    """A policy that picks a fixed number from each group by a priority over all examples."""

    def priority(self, tracker: LossTracker) -> torch.Tensor | None:
        """Priority of every example ``(N,)`` (high = kept), or None when the choice ignores scores."""
        return None

    def choose(self, priority: torch.Tensor | None, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
        """Indices ``(k,)`` into one group of ``n`` candidates whose priorities are ``priority`` ``(n,)``."""
        assert priority is not None  # a policy without priorities overrides choose
        return top_k(priority, k, generator)

    def select(
        self, tracker: LossTracker, k: int | None, generator: torch.Generator, groups: Sequence[Group]
    ) -> Selection:
        priority = self.priority(tracker)
        chosen = []
        for candidates, budget in groups:
            sub = None if priority is None else priority[candidates]
            chosen.append(candidates[self.choose(sub, len(candidates), budget, generator)])
        return Selection.unweighted(torch.cat(chosen))


@dataclass(frozen=True)
class RandomDynamic(RankingPolicy):
    """Uniform k at every checkpoint ("random dynamic")."""

    name = "random"
    needs_scores = False

    def choose(self, priority: torch.Tensor | None, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
        return random_k(n, k, generator)


@dataclass(frozen=True)
class Uncertainty(RankingPolicy):
    """The k examples with the highest current loss."""

    name = "uncertainty"

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return tracker.latest


@dataclass(frozen=True)
class UncertaintyEMA(RankingPolicy):
    """The k examples with the highest EMA of the loss over checkpoints (``alpha`` = weight of the new loss)."""

    alpha: float = 0.8
    name = "uncertainty-ema"

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return tracker.ema


@dataclass(frozen=True)
class EpsilonGreedy(RankingPolicy):
    """``(1 - eps) k`` highest loss EMAs plus ``eps k`` uniformly from the rest; ``eps = 0`` is the EMA rule."""

    alpha: float = 0.8
    eps: float = 0.1
    name = "egreedy"

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)
        check_range("eps", self.eps, 0.0, 1.0, low_open=False, high_open=False)

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return tracker.ema

    def choose(self, priority: torch.Tensor | None, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
        assert priority is not None  # priority() always gives one
        return epsilon_greedy(priority, k, self.eps, generator)


@dataclass(frozen=True)
class UCB(RankingPolicy):
    """The k highest ``ema + c * bonus(var)``; ``c = 0`` is the EMA rule.

    ``variance="raw"`` (bonus = var) is the paper's rule; ``"normalized"`` and ``clip`` are our options against
    early-training variances dominating the score (see :func:`~datadiet.dynamic.rules.ucb_priority`).
    """

    alpha: float = 0.8
    c: float = 1.0
    variance: str = "raw"
    clip: float | None = None
    name = "ucb"

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)
        check_range("c", self.c, 0.0, float("inf"), low_open=False, high_open=True)
        if self.variance not in VARIANCE_MODES:
            raise ValueError(f"unknown variance mode {self.variance!r}; valid: {', '.join(VARIANCE_MODES)}")
        if self.clip is not None:
            check_range("clip", self.clip, 0.0, float("inf"), low_open=True, high_open=True)

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return ucb_priority(tracker.ema, tracker.var, self.c, variance=self.variance, clip=self.clip)
