"""Self-supervised prototype selection (Sorscher, Geirhos, Shekhar, Ganguli & Morcos, "Beyond neural scaling
laws: beating power law scaling via data pruning", NeurIPS 2022, Sec. 6).

k-means in embedding space (seeded, see :mod:`.kmeans`); an example's difficulty is its distance to the nearest
centroid (prototype),

    score_i = min_c dist(e_i, c),

higher = farther from every prototype = harder / less redundant. The paper clusters self-supervised (SwAV)
embeddings and uses the cosine distance (``metric="cosine"``, the default: spherical k-means, ``1 - cos``);
``metric="euclidean"`` uses plain k-means and the Euclidean distance. By default the farthest (hardest) examples
are kept, as the paper advises when data is abundant; ``easy=True`` keeps the nearest (easiest), its advice when
data is scarce. Ties go by position as in :func:`.rules.keep_highest` / :func:`.rules.keep_lowest`. With labels,
k-means runs within each class (``min(clusters, class size)`` clusters) on the class's share of the budget.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, fraction_count
from .geometry import check_embeddings, rows_of
from .kmeans import kmeans, nearest_centroids, unit_rows

__all__ = ["prototypes", "prototype_distances", "METRICS"]

METRICS = ("cosine", "euclidean")


def prototypes(embeddings: ArrayLike, keep: float, *, clusters: int, seed: int, easy: bool = False,
               metric: str = "cosine", iterations: int = 100, labels: ArrayLike | None = None) -> np.ndarray:
    """Keep the ``round(keep * N)`` examples farthest from their nearest prototype (nearest with ``easy``).

    Args:
        embeddings: ``(N, D)``, one row per example.
        keep: fraction of examples to keep, in ``(0, 1]``.
        clusters: number of k-means clusters (prototypes), at least 1.
        seed: seed of the k-means++ seeding.
        easy: keep the easiest (nearest) examples instead of the hardest.
        metric: ``"cosine"`` (the paper) or ``"euclidean"``.
        iterations: most Lloyd iterations.
        labels: integer labels ``(N,)`` for the class-balanced variant (k-means within each class), or None.
    """
    x = check_embeddings(embeddings)
    k = fraction_count(check_fraction("keep", keep), len(x))
    _check_options(clusters, metric, iterations, easy)
    if metric == "cosine":
        x = unit_rows(x)

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        d = prototype_distances(rows_of(x, members), clusters, seed=seed, metric=metric, iterations=iterations)
        ranked = members[np.argsort(d, kind="stable")]
        return ranked[:count] if easy else ranked[len(ranked) - count:]

    return apply_budget(choose, len(x), k, labels)


def prototype_distances(x: np.ndarray, clusters: int, *, seed: int, metric: str = "cosine",
                        iterations: int = 100) -> np.ndarray:
    """Distance ``(n,)`` of every row of ``x`` to its nearest of ``min(clusters, n)`` k-means centroids (``x`` in
    unit rows for ``metric="cosine"``); higher = harder."""
    spherical = metric == "cosine"
    centroids = kmeans(x, min(int(clusters), len(x)), seed=seed, iterations=iterations, spherical=spherical)
    return nearest_centroids(x, centroids, spherical=spherical)[1]


def _check_options(clusters: int, metric: str, iterations: int, easy: bool) -> None:
    for name, value in (("clusters", clusters), ("iterations", iterations)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if not isinstance(easy, (bool, np.bool_)):
        raise ValueError(f"easy must be True or False, got {easy!r}")
