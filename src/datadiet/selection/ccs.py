"""Coverage-centric coreset selection (CCS; Zheng, Liu, Li, Prakash, ICLR 2023).

"Coverage-centric Coreset Selection for High Pruning Rates", Algorithm 1:

1. prune the ``floor(beta * N)`` hardest examples (high scores; at high pruning rates these are mostly
   mislabeled or ambiguous);
2. split the range of the remaining scores into ``strata`` bins of equal width;
3. visit the non-empty bins from the smallest to the largest; each takes ``min(size, floor(m / bins left))``
   examples uniformly at random, where ``m`` is the budget not yet spent, so the budget of bins with too few
   examples flows to the larger ones and the last bin visited takes what is left.

Conventions here: the hard cut uses the library's rounding (``round(beta * N)``, half up; the paper floors, a
difference of at most one example) and the usual tie order (among tied scores the later positions are cut
first); the top bin is closed, so the highest remaining score falls in the last bin; remaining ``+inf`` scores
(never-learned examples not covered by the cut) form one more stratum above the finite range; bins of equal
size are visited in score order. With ``labels`` the whole procedure runs within each class on its share of
the budget.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, check_scores, fraction_count

__all__ = ["ccs", "stratum_of", "allocate_strata"]


def ccs(
    scores: ArrayLike,
    keep: float,
    *,
    beta: float,
    strata: int = 50,
    seed: int,
    labels: ArrayLike | None = None,
) -> np.ndarray:
    """Coverage-centric selection of ``round(keep * N)`` examples; positions sorted ascending, int64.

    Args:
        scores: difficulty scores, shape ``(N,)``, higher = harder.
        keep: fraction of examples to keep, in ``(0, 1]``.
        beta: hard cutoff rate: fraction of the hardest examples never selected, ``0 <= beta < 1`` and
            ``keep + beta <= 1``.
        strata: number of equal-width score bins (paper: 50).
        seed: seed of the random sampling within bins.
        labels: integer labels ``(N,)`` for the class-balanced variant, or None.
    """
    s = check_scores(scores)
    keep = check_fraction("keep", keep)
    beta = check_fraction("beta", beta, allow_zero=True)
    if beta >= 1 or keep + beta > 1 + 1e-9:
        raise ValueError(f"beta must be below 1 and keep + beta at most 1, got keep={keep}, beta={beta}")
    if int(strata) != strata or strata < 1:
        raise ValueError(f"strata must be a positive integer, got {strata}")
    rng = np.random.default_rng(seed)

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        cut = min(fraction_count(beta, len(members)), len(members) - count)
        ranked = members[np.argsort(s[members], kind="stable")]
        remaining = np.sort(ranked[: len(ranked) - cut])
        bins = stratum_of(s[remaining], int(strata))
        budgets = allocate_strata(np.bincount(bins), count)
        return np.concatenate(
            [rng.choice(remaining[bins == b], int(m), replace=False) for b, m in enumerate(budgets) if m > 0]
        )

    return apply_budget(choose, len(s), fraction_count(keep, len(s)), labels)


def stratum_of(scores: np.ndarray, strata: int) -> np.ndarray:
    """Bin index of each score: ``strata`` equal-width bins over the finite range, ``+inf`` in bin ``strata``.

    Args:
        scores: shape ``(n,)``, finite or ``+inf``.
        strata: number of equal-width bins over ``[min, max]`` of the finite scores (the top bin is closed).

    Returns:
        int64 bin indices, shape ``(n,)``, in ``0..strata`` (``strata`` only for ``+inf``).
    """
    bins = np.full(len(scores), strata, dtype=np.int64)
    finite = np.isfinite(scores)
    if finite.any():
        low, high = scores[finite].min(), scores[finite].max()
        width = (high - low) / strata
        scaled = (scores[finite] - low) / width if width > 0 else np.zeros(int(finite.sum()))
        bins[finite] = np.minimum(np.floor(scaled).astype(np.int64), strata - 1)
    return bins


def allocate_strata(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Per-bin budgets of CCS (Algorithm 1, lines 6-12): smallest bins first, even share of what is left.

    Args:
        sizes: number of examples in each bin, shape ``(B,)`` (empty bins get nothing).
        budget: total number to select, at most ``sizes.sum()``.

    Returns:
        Budget of each bin, shape ``(B,)``, summing to ``budget``.
    """
    out = np.zeros(len(sizes), dtype=np.int64)
    order = [b for b in np.argsort(sizes, kind="stable") if sizes[b] > 0]
    left = budget
    for visited, b in enumerate(order):
        out[b] = min(int(sizes[b]), left // (len(order) - visited))
        left -= out[b]
    return out
