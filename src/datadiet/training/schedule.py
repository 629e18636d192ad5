"""Piecewise-constant learning-rate decay as a function of training progress."""

from __future__ import annotations

import bisect

__all__ = ["lr_factor"]


def lr_factor(progress: float, milestones: tuple[float, ...], gamma: float) -> float:
    """Multiplier of the base learning rate after ``progress`` in [0, 1] of the budget.

    The papers divide by 5 at epochs 60, 120 and 160 of 200: ``milestones=(0.3, 0.6, 0.8)``, ``gamma=0.2``.
    Progress is measured in the budget's unit, so a schedule in steps stays in steps whatever the subset size.
    """
    return gamma ** bisect.bisect_right(sorted(milestones), progress)
