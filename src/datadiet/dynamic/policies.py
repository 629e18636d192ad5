"""The selection criteria of Raju, Daruwalla & Lipasti, "Accelerating Deep Learning with Dynamic Data Pruning".

Each keeps exactly k examples per checkpoint (or each class's share of k when selection is class-balanced),
ranking by a priority computed from the :class:`LossTracker` (**high priority = kept**):

- ``random``: uniform k, no scores needed.
- ``uncertainty``: the current loss s.
- ``uncertainty-ema``: s_ema = a s + (1 - a) s_ema_prev (paper: a = 0.8).
- ``egreedy``: (1 - eps) k by s_ema, eps k uniformly from the rest.
- ``ucb``: s_ema + c var, var = (1 - a) var_prev + a (s - s_ema_prev)^2, initial variance 0.

On static scores (its App. B, Fig. 15: scores of R independent runs given once, e.g. EL2N; no training loss is
ever used, so no scoring pass either):

- ``static-egreedy``: at every checkpoint, (1 - eps) k by the mean score over runs, eps k uniformly from the rest.
- ``static-ucb``: the k highest mean + c var over runs (:func:`~datadiet.dynamic.rules.ucb_over_runs`), the same
  subset at every checkpoint.
- ``static-topk``: the k highest mean score, the same subset at every checkpoint (Table 1's static row, on the
  final checkpoint's scores of a dynamic run).

Hyper-parameter defaults: a = 0.8 is the paper's. eps = 0.1 and c = 1.0 are our choices: the paper sweeps both
(its App. F) and we could not confirm the value it settles on; set them explicitly when reproducing a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from datadiet.dynamic.base import Group, Policy, Selection, check_range
from datadiet.dynamic.rules import VARIANCE_MODES, epsilon_greedy, random_k, top_k, ucb_over_runs, ucb_priority
from datadiet.dynamic.tracker import LossTracker

__all__ = [
    "EpsilonGreedy", "RandomDynamic", "RankingPolicy", "STATIC_POLICIES", "StaticEpsilonGreedy", "StaticScores",
    "StaticTopK", "StaticUCB", "UCB", "Uncertainty", "UncertaintyEMA", "make_static_policy",
]


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


def _static_runs(scores: Any) -> torch.Tensor:
    """Static scores as float64 ``(R, N)`` (a vector ``(N,)`` is one run); ``ValueError`` unless finite."""
    runs = torch.as_tensor(scores, dtype=torch.float64).detach().cpu()
    runs = runs.unsqueeze(0) if runs.dim() == 1 else runs
    if runs.dim() != 2 or runs.numel() == 0:
        raise ValueError(f"static scores must have shape (N,) or (R, N) (R runs), got {tuple(runs.shape)}")
    if not bool(torch.isfinite(runs).all()):
        raise ValueError("static scores must be finite (a never-learned +inf has no mean or spread to rank by)")
    return runs


@dataclass(frozen=True, eq=False)
class StaticScores(RankingPolicy):
    """A policy ranking by static ``scores``, ``(N,)`` or ``(R, N)`` for R runs (high = kept), given once.

    Its priority is the mean over runs; training losses are never used (``needs_scores`` is False: the pruner
    runs no scoring pass). The hyper-parameters are the fields after ``scores``.
    """

    scores: torch.Tensor = field(repr=False)
    needs_scores = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", _static_runs(self.scores))

    def check(self, num_examples: int, k: int | None) -> None:
        if self.scores.shape[1] != num_examples:
            raise ValueError(f"policy {self.name!r} has static scores of {self.scores.shape[1]} examples, the "
                             f"training set {num_examples}")

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return self.scores.mean(0)

    def options(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "scores"}


@dataclass(frozen=True, eq=False)
class StaticTopK(StaticScores):
    """The k highest mean static scores, the same subset at every checkpoint (ties broken by a fixed draw)."""

    name = "static-topk"

    def choose(self, priority: torch.Tensor | None, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
        assert priority is not None  # priority() always gives one
        return top_k(priority, k, torch.Generator().manual_seed(0))


@dataclass(frozen=True, eq=False)
class StaticEpsilonGreedy(StaticScores):
    """Paper 2, App. B, "EL2N + epsilon-greedy": at every checkpoint the ``(1 - eps) k`` highest mean static
    scores plus ``eps k`` (rounded half up) uniformly from the rest, drawn afresh at each checkpoint."""

    eps: float = 0.1
    name = "static-egreedy"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("eps", self.eps, 0.0, 1.0, low_open=False, high_open=False)

    def choose(self, priority: torch.Tensor | None, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
        assert priority is not None  # priority() always gives one
        return epsilon_greedy(priority, k, self.eps, generator)


@dataclass(frozen=True, eq=False)
class StaticUCB(StaticTopK):
    """Paper 2, App. B, "EL2N + UCB": UCB applied once to the R runs' static scores, the k highest
    ``mean + c * var`` over runs (population variance, :func:`~datadiet.dynamic.rules.ucb_over_runs`); a fixed
    subset, the same at every checkpoint."""

    c: float = 1.0
    name = "static-ucb"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("c", self.c, 0.0, float("inf"), low_open=False, high_open=True)

    def priority(self, tracker: LossTracker) -> torch.Tensor:
        return ucb_over_runs(self.scores, self.c)


STATIC_POLICIES: dict[str, type[StaticScores]] = {cls.name: cls for cls in (StaticEpsilonGreedy, StaticUCB, StaticTopK)}
"""The policies on static scores by name (built with their scores by :func:`make_static_policy`)."""


def make_static_policy(name: str, scores: Any, options: Mapping[str, Any] | None = None) -> StaticScores:
    """The policy on static scores ``name`` ranking by ``scores`` ``(N,)`` or ``(R, N)``, hyper-parameters
    ``options``; unknown names and options raise ``ValueError`` listing what is valid."""
    if name not in STATIC_POLICIES:
        raise ValueError(f"unknown policy on static scores {name!r}; valid: {', '.join(STATIC_POLICIES)}")
    cls = STATIC_POLICIES[name]
    valid = [f.name for f in fields(cls) if f.name != "scores"]
    unknown = sorted(set(options or {}) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for policy {name!r}; valid: {', '.join(valid) or 'none'}")
    return cls(scores, **(options or {}))
