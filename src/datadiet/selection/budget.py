"""Budgets and argument checks shared by every selection rule.

Conventions (the same for every rule in :mod:`datadiet.selection`):

- **Scores** are float arrays of shape ``(N,)`` in the dataset's original order; a higher score means a harder,
  more important example. ``+inf`` is allowed (a never-learned example ranks above every finite score);
  ``NaN`` and ``-inf`` are errors.
- **Sizes**: a fraction ``f`` of ``n`` examples is ``round(f * n)`` rounded half up (never banker's rounding),
  taking ``f`` as written in decimal: ``keep=0.5`` of 5 examples keeps 3, ``keep=0.15`` of 10 keeps 2.
- **Ties**: examples are ranked by a stable ascending sort on the score, so equal scores are ordered by
  position. "The lowest" are the first of this order, "the highest" the last: among tied scores at a boundary,
  the later positions count as higher.
- **Class balance**: with ``labels``, the total budget ``k`` is split over the classes in proportion to their
  sizes by largest-remainder rounding (exact integer quotas ``k * n_c / N``, the leftover examples going to the
  largest remainders, ties to the smaller label), so the class budgets sum to ``k`` exactly; the rule is then
  applied within each class.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["fraction_count", "check_scores", "check_fraction", "check_labels", "class_budgets", "apply_budget"]

Choose = Callable[[np.ndarray, int], np.ndarray]


def fraction_count(fraction: float, n: int) -> int:
    """Number of examples in ``fraction`` of ``n``: ``fraction * n`` rounded half up.

    The product is first rounded to 9 decimals, so that binary floating-point error does not move a fraction
    written in decimal across the half (``0.018 * 750`` is ``13.499999999999998`` in floating point, but keeps 14).
    """
    return int(math.floor(round(fraction * n, 9) + 0.5))


def check_scores(scores: ArrayLike) -> np.ndarray:
    """Return ``scores`` as a float64 array of shape ``(N,)``; raise ``ValueError`` on NaN, -inf or bad shape."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"scores must be a non-empty 1-D array (one score per example), got shape {s.shape}")
    bad = np.flatnonzero(np.isnan(s) | (s == -np.inf))
    if len(bad):
        raise ValueError(
            f"scores contain {len(bad)} NaN or -inf values (first at positions {bad[:5].tolist()}); "
            "scores must be finite or +inf"
        )
    return s


def check_fraction(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Check that a fraction lies in ``(0, 1]`` (or ``[0, 1]`` with ``allow_zero``) and return it as a float."""
    value = float(value)
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be a fraction in {interval}, got {value}")
    return value


def class_budgets(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a budget of ``k`` examples over classes by largest-remainder rounding.

    Args:
        labels: integer labels, shape ``(N,)``.
        k: total budget, ``0 <= k <= N``.

    Returns:
        ``(classes, budgets)``: the distinct labels in increasing order and each one's budget; budgets sum to
        ``k`` and never exceed the class size.
    """
    classes, sizes = np.unique(labels, return_counts=True)
    quota, remainder = np.divmod(k * sizes, len(labels))
    leftover = k - int(quota.sum())
    winners = np.argsort(-remainder, kind="stable")[:leftover]
    quota[winners] += 1
    return classes, quota


def apply_budget(choose: Choose, n: int, k: int, labels: ArrayLike | None) -> np.ndarray:
    """Apply a rule to all ``n`` examples, or within each class with its share of ``k``.

    Args:
        choose: ``choose(members, count)`` returns ``count`` of the positions ``members`` (increasing positions).
        n: number of examples N.
        k: total number to select, ``1 <= k <= n``.
        labels: integer labels, shape ``(N,)``, for class-balanced selection, or None.

    Returns:
        Selected positions, sorted ascending, int64, shape ``(k,)``.
    """
    if k < 1:
        raise ValueError(f"the selection of {n} examples would keep no example; choose a larger fraction")
    if labels is None:
        picked = choose(np.arange(n), k)
    else:
        y = check_labels(labels, n)
        classes, budgets = class_budgets(y, k)
        picked = np.concatenate(
            [choose(np.flatnonzero(y == c), int(b)) for c, b in zip(classes, budgets) if b > 0]
        )
    return np.sort(picked).astype(np.int64)


def check_labels(labels: ArrayLike, n: int) -> np.ndarray:
    """``labels`` as an integer array of shape ``(n,)``; ``ValueError`` otherwise."""
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers of shape ({n},) (one per example), got {y.dtype} {y.shape}")
    return y
