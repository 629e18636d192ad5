"""The policy interface: what a dynamic pruner asks of a selection criterion at each checkpoint."""

from __future__ import annotations

import math
from dataclasses import Field, asdict, dataclass
from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from datadiet.dynamic.tracker import LossTracker

__all__ = ["Group", "Policy", "Selection", "check_range"]

Group = tuple[torch.Tensor, int]
"""Candidate positions ``(n,)`` and how many of them to select (one class, or the whole training set)."""


@dataclass(frozen=True)
class Selection:
    """Examples to train on until the next checkpoint.

    Attributes:
        positions: selected positions, shape ``(m,)``, int64, each at most once.
        weights: loss weight of each selected example, shape ``(m,)``, float32 (ones unless the policy
            rescales, as InfoBatch does).
    """

    positions: torch.Tensor
    weights: torch.Tensor

    @classmethod
    def unweighted(cls, positions: torch.Tensor) -> Selection:
        return cls(positions.long(), torch.ones(len(positions)))


class Policy:
    """A selection criterion. Subclasses are frozen dataclasses whose fields are the hyper-parameters.

    Class attributes say what the pruner must provide: ``needs_scores`` (losses before each checkpoint),
    ``fixed_budget`` (selects exactly k; False for InfoBatch, which sets its own size), ``class_balanced_ok``
    (selection can run within each class on the class's share of k), ``reweights`` (selections carry loss
    weights other than 1).

    The ``default_*`` attributes are what the pruner and the training callbacks use when the caller leaves
    ``period``, ``warmup_epochs`` or ``score_source`` unset: paper 2's T_p = 10, our one-epoch warm-up and a scoring
    pass at each checkpoint; InfoBatch overrides them with its own rule.
    """

    name: ClassVar[str] = ""
    needs_scores: ClassVar[bool] = True
    fixed_budget: ClassVar[bool] = True
    class_balanced_ok: ClassVar[bool] = True
    reweights: ClassVar[bool] = False
    default_period: ClassVar[int] = 10
    default_warmup_epochs: ClassVar[int] = 1
    default_score_source: ClassVar[str] = "pass"
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by @dataclass on every subclass

    @property
    def ema_alpha(self) -> float:
        """EMA weight of the new loss in the shared :class:`LossTracker` (1 = keep only the latest loss)."""
        return float(getattr(self, "alpha", 1.0))

    @property
    def final_fraction(self) -> float:
        """Fraction of the epochs, at the end, trained on all data unless the pruner is told otherwise."""
        return 0.0

    def check(self, num_examples: int, k: int | None) -> None:
        """Raise ``ValueError`` if the policy cannot select ``k`` of ``num_examples`` (called at construction)."""

    def expected_size(self, tracker: LossTracker, k: int | None) -> int:
        """How many examples a selection made now would keep (``k`` for fixed-budget policies)."""
        if k is None:
            raise NotImplementedError(f"policy {self.name!r} sets its own size: it must define expected_size")
        return int(k)

    def select(
        self, tracker: LossTracker, k: int | None, generator: torch.Generator, groups: Sequence[Group]
    ) -> Selection:
        """Choose the examples for the next period from ``tracker``'s statistics (stepped already)."""
        raise NotImplementedError

    def options(self) -> dict:
        """Hyper-parameters as plain values (recorded in state dicts, compared on resume)."""
        return asdict(self)


def check_range(name: str, value: float, low: float, high: float, *, low_open: bool, high_open: bool) -> None:
    """Raise ``ValueError`` naming the valid interval unless ``value`` lies in it."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
