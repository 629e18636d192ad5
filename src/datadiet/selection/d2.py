"""D2 Pruning (Maharana, Yadav & Bansal, "D2 Pruning: Message Passing for Balancing Diversity and Difficulty in
Data Pruning", ICLR 2024, Sec. 3).

A graph whose nodes are the examples, each joined to its ``k`` nearest neighbours ``N(i)`` in embedding space
(exact, see :mod:`.geometry`), and whose node features are the difficulty scores ``s`` (higher = harder):

1. **forward message passing** spreads difficulty over dense regions:
   ``s'_i = s_i + sum_{j in N(i)} exp(-gamma_forward * d(i, j)) * s_j``;
2. **reverse message passing** during greedy selection: take the example of largest ``s'``, then down-weight its
   neighbours, ``s'_j -= exp(-gamma * d(k, j)) * s'_k`` for ``j in N(k)``, so the next picks come from elsewhere.

``d`` is the Euclidean distance. ``gamma_forward`` and ``gamma`` (the reverse weight) are the paper's gamma_f and
gamma_r; the weights depend on the scale of the embeddings (the authors' code uses ``gamma_forward = 1`` and tunes
``gamma`` per dataset, e.g. 0.1 on CIFAR-10 with ``k = 5``). Deterministic; ties go to the lowest position. The
paper combines D2 with a cut of the hardest examples at high pruning rates (as in CCS); that cut is not part of
this rule. Scores must be finite (a forgetting score's ``+inf`` has no weighted sum).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, check_scores, fraction_count
from .geometry import check_embeddings, check_neighbors, nearest_neighbors, rows_of

__all__ = ["d2", "forward_scores", "reverse_greedy"]


def d2(scores: ArrayLike, embeddings: ArrayLike, keep: float, *, k: int = 5, gamma: float = 1.0,
       gamma_forward: float = 1.0, labels: ArrayLike | None = None) -> np.ndarray:
    """D2 selection of ``round(keep * N)`` examples; positions sorted ascending, int64.

    Args:
        scores: difficulty scores ``(N,)``, finite, higher = harder.
        embeddings: ``(N, D)``, one row per example.
        keep: fraction of examples to keep, in ``(0, 1]``.
        k: neighbours per example (capped at the examples available minus one).
        gamma: reverse message-passing weight gamma_r (>= 0).
        gamma_forward: forward message-passing weight gamma_f (>= 0).
        labels: integer labels ``(N,)`` for the class-balanced variant (a graph within each class), or None.
    """
    s = check_scores(scores)
    if not np.isfinite(s).all():
        raise ValueError("d2 needs finite scores, got +inf (a never-learned forgetting score?): replace them by "
                         "a finite value, e.g. one above the largest finite score")
    x = check_embeddings(embeddings, len(s))
    size = fraction_count(check_fraction("keep", keep), len(s))
    check_neighbors(k)
    for name, value in (("gamma", gamma), ("gamma_forward", gamma_forward)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        kk = min(int(k), len(members) - 1)
        distances, neighbors = nearest_neighbors(rows_of(x, members), kk)
        forward = forward_scores(s[members], distances, neighbors, gamma_forward)
        return members[reverse_greedy(forward, distances, neighbors, gamma, count)]

    return apply_budget(choose, len(s), size, labels)


def forward_scores(s: np.ndarray, distances: np.ndarray, neighbors: np.ndarray, gamma_forward: float) -> np.ndarray:
    """``s'_i = s_i + sum_{j in N(i)} exp(-gamma_forward d(i, j)) s_j`` for graph ``(distances, neighbors)``
    ``(n, k)``; shape ``(n,)``."""
    return s + (np.exp(-gamma_forward * distances) * s[neighbors]).sum(axis=1)


def reverse_greedy(forward: np.ndarray, distances: np.ndarray, neighbors: np.ndarray, gamma: float,
                   count: int) -> np.ndarray:
    """``count`` nodes by greedy selection with reverse message passing, in order of selection, int64."""
    current = forward.astype(np.float64)
    weights = np.exp(-gamma * distances)
    chosen = np.empty(count, dtype=np.int64)
    for t in range(count):
        best = int(np.argmax(current))
        chosen[t] = best
        current[neighbors[best]] -= weights[best] * current[best]
        current[best] = -np.inf
    return chosen
