"""k-center greedy selection (Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
Approach", ICLR 2018; DeepCore's ``kCenterGreedy``).

Farthest-first traversal in Euclidean embedding space: start from one example, then repeatedly add the example
farthest from its nearest selected example,

    s_{t+1} = argmax_{i not in S} min_{j in S} ||e_i - e_j||_2,

a 2-approximation of the subset minimising the largest distance of any example to the subset (coverage). Here
the first center is drawn at random: position ``np.random.default_rng(seed).integers(N)`` (class-balanced: each
class in increasing label order draws its first center from the same generator). Ties go to the lowest
position. There are no scores: the order of selection is the coverage ranking (earlier = covers more).
Memory: the embeddings plus one distance per example; each step costs one pass over the embeddings.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, fraction_count
from .geometry import check_embeddings, rows_of, squared_norms

__all__ = ["kcenter", "farthest_first"]


def kcenter(embeddings: ArrayLike, keep: float, *, seed: int, labels: ArrayLike | None = None) -> np.ndarray:
    """k-center greedy selection of ``round(keep * N)`` examples; positions sorted ascending, int64.

    Args:
        embeddings: ``(N, D)``, one row per example (see :mod:`.geometry`).
        keep: fraction of examples to keep, in ``(0, 1]``.
        seed: draws the first center.
        labels: integer labels ``(N,)`` for the class-balanced variant (each class covered on its own), or None.
    """
    x = check_embeddings(embeddings)
    k = fraction_count(check_fraction("keep", keep), len(x))
    rng = np.random.default_rng(seed)

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        return members[farthest_first(rows_of(x, members), count, int(rng.integers(len(members))))]

    return apply_budget(choose, len(x), k, labels)


def farthest_first(x: np.ndarray, count: int, start: int) -> np.ndarray:
    """Rows of ``x`` ``(n, D)`` in farthest-first order from row ``start``: ``count`` row numbers, int64."""
    norms = squared_norms(x)
    nearest = np.full(len(x), np.inf, dtype=x.dtype)  # squared distance to the nearest center; -inf: a center
    chosen = np.empty(count, dtype=np.int64)
    center = start
    for t in range(count):
        chosen[t] = center
        d = norms - 2 * (x @ x[center]) + norms[center]
        np.minimum(nearest, np.maximum(d, 0, out=d), out=nearest)
        nearest[center] = -np.inf
        center = int(np.argmax(nearest))
    return chosen
