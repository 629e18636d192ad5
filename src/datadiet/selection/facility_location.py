"""Facility-location selection by lazy greedy maximisation (Nemhauser, Wolsey & Fisher 1978; Minoux's lazy
greedy, 1978; as a coreset objective in CRAIG, Mirzasoleiman et al. 2020, and DeepCore's ``FacilityLocation``).

The subset ``S`` maximises the submodular facility-location function

    F(S) = sum_i max_{j in S} sim(i, j)     (max over no element = 0)

greedily: each step adds the example of largest gain ``F(S + j) - F(S)``. Similarity, on a sparse exact
nearest-neighbour graph (bounded memory, see :mod:`.geometry`): ``sim(i, j) = d_max - ||e_i - e_j||`` when ``j``
is ``i`` itself or one of the ``k`` nearest neighbours of ``i``, else 0, where ``d_max`` is the largest distance in
the graph (so every similarity is >= 0 and ``sim(i, i) = d_max``). With ``k = N - 1`` this is the dense
facility location with ``sim = max distance - distance``.

Minoux's lazy evaluation keeps stale gains in a priority queue: by submodularity a gain only shrinks as ``S``
grows, so the top element, once refreshed, is the true maximum if it still beats the next stale gain. It picks
the same set as plain greedy (ties go to the lowest position in both). Deterministic; earlier = larger gain.
"""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, fraction_count
from .geometry import check_embeddings, check_neighbors, nearest_neighbors, rows_of

__all__ = ["facility_location", "lazy_greedy", "knn_similarity"]


def facility_location(embeddings: ArrayLike, keep: float, *, k: int = 20,
                      labels: ArrayLike | None = None) -> np.ndarray:
    """Facility-location selection of ``round(keep * N)`` examples; positions sorted ascending, int64.

    Args:
        embeddings: ``(N, D)``, one row per example (see :mod:`.geometry`).
        keep: fraction of examples to keep, in ``(0, 1]``.
        k: neighbours per example in the similarity graph (capped at the examples available minus one).
        labels: integer labels ``(N,)`` for the class-balanced variant (a graph within each class), or None.
    """
    x = check_embeddings(embeddings)
    size = fraction_count(check_fraction("keep", keep), len(x))
    check_neighbors(k)

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        sources, targets, sims = knn_similarity(rows_of(x, members), k)
        return members[lazy_greedy(sources, targets, sims, len(members), count)]

    return apply_budget(choose, len(x), size, labels)


def knn_similarity(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sparse similarity as edges ``(i, j, sim(i, j))``: each row with itself and its ``min(k, n - 1)``
    nearest neighbours, ``n (k + 1)`` edges, flat arrays."""
    n = len(x)
    kk = min(int(k), n - 1)
    distances, neighbors = nearest_neighbors(x, kk)
    d_max = float(distances.max()) if kk else 0.0
    sources = np.repeat(np.arange(n), kk + 1)
    targets = np.concatenate([np.arange(n)[:, None], neighbors], axis=1).ravel()
    sims = (d_max - np.concatenate([np.zeros((n, 1)), distances], axis=1)).ravel()
    return sources, targets, sims


def lazy_greedy(sources: np.ndarray, targets: np.ndarray, sims: np.ndarray, n: int, count: int) -> np.ndarray:
    """Lazy greedy maximisation of ``F(S) = sum_i max_{j in S} sim(i, j)`` over ``n`` elements, the similarity
    given as edges ``(i, j, sim)`` (>= 0; absent pairs 0): ``count`` elements in order of selection, int64."""
    by_target = np.argsort(targets, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(targets, minlength=n))])
    served, gains = sources[by_target], sims[by_target]  # for facility j: who it serves, at what similarity
    best = np.zeros(n)  # max_{j in S} sim(i, j) of every i

    def gain(j: int) -> float:
        lo, hi = starts[j], starts[j + 1]
        return float(np.maximum(gains[lo:hi] - best[served[lo:hi]], 0).sum())

    heap = [(-gain(j), j) for j in range(n)]
    heapq.heapify(heap)
    chosen = np.empty(count, dtype=np.int64)
    for t in range(count):
        while True:
            _, j = heapq.heappop(heap)
            fresh = (-gain(j), j)
            if not heap or fresh <= heap[0]:
                break
            heapq.heappush(heap, fresh)
        chosen[t] = j
        lo, hi = starts[j], starts[j + 1]
        best[served[lo:hi]] = np.maximum(best[served[lo:hi]], gains[lo:hi])  # each i once per facility
    return chosen
