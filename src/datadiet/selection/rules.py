"""Static selection rules of "Deep Learning on a Data Diet" (Paul et al. 2021, Sec. 2 and App. B.3).

Each rule takes scores of shape ``(N,)`` (higher = harder / more important; see :mod:`.budget` for the sizing,
tie and class-balance conventions) and returns the selected positions, sorted ascending, int64. Pass
``labels=`` (integer labels, shape ``(N,)``) for the class-balanced variant: each class gets its share of the
budget and the rule runs within the class.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, check_scores, fraction_count

__all__ = ["keep_highest", "keep_lowest", "random_subset", "sliding_window"]

WINDOW_TOLERANCE = 1e-9


def keep_highest(scores: ArrayLike, keep: float, *, labels: ArrayLike | None = None) -> np.ndarray:
    """Keep the ``round(keep * N)`` highest-scored examples (prune the lowest fraction ``1 - keep``)."""
    s = check_scores(scores)
    k = fraction_count(check_fraction("keep", keep), len(s))
    return apply_budget(lambda members, count: _ranked(s, members)[len(members) - count:], len(s), k, labels)


def keep_lowest(scores: ArrayLike, keep: float, *, labels: ArrayLike | None = None) -> np.ndarray:
    """Keep the ``round(keep * N)`` lowest-scored (easiest) examples."""
    s = check_scores(scores)
    k = fraction_count(check_fraction("keep", keep), len(s))
    return apply_budget(lambda members, count: _ranked(s, members)[:count], len(s), k, labels)


def random_subset(n: int, keep: float, *, seed: int, labels: ArrayLike | None = None) -> np.ndarray:
    """A uniformly random subset of ``round(keep * n)`` of ``n`` examples (per class with ``labels``)."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive number of examples, got {n}")
    k = fraction_count(check_fraction("keep", keep), int(n))
    rng = np.random.default_rng(seed)
    return apply_budget(lambda members, count: rng.choice(members, count, replace=False), int(n), k, labels)


def sliding_window(
    scores: ArrayLike, keep: float, *, offset: float, labels: ArrayLike | None = None
) -> np.ndarray:
    """Sort ascending, drop the lowest ``offset`` fraction, keep the next ``keep`` fraction, drop the rest.

    The window keeps exactly ``round(keep * N)`` examples starting at rank ``round(offset * N)``; when rounding
    pushes the window past the top it is moved down to end at the highest score, so
    ``sliding_window(s, f, offset=1 - f)`` equals ``keep_highest(s, f)``. With ``labels`` the offset and the
    window's size apply within each class.
    """
    s = check_scores(scores)
    offset = check_fraction("offset", offset, allow_zero=True)
    size = check_fraction("keep", keep)
    if offset + size > 1 + WINDOW_TOLERANCE:
        raise ValueError(f"offset + keep must be at most 1, got offset={offset} + keep={size} = {offset + size}")

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        start = min(fraction_count(offset, len(members)), len(members) - count)
        return _ranked(s, members)[start:start + count]

    return apply_budget(choose, len(s), fraction_count(size, len(s)), labels)


def _ranked(scores: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``members`` ordered by ascending score, ties by position (``members`` must be increasing)."""
    return members[np.argsort(scores[members], kind="stable")]
