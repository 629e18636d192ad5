"""Seeded k-means in bounded memory (k-means++ seeding, Arthur & Vassilvitskii 2007; Lloyd iterations), Euclidean
or spherical (cosine).

- **Euclidean**: assign each row to the centroid at the smallest Euclidean distance; a centroid is the mean of
  its rows.
- **Spherical** (rows are scaled to unit norm first; a zero row stays zero): assign each row to the centroid of
  largest cosine similarity; a centroid is the unit-norm direction of the sum of its rows. The distance of a row
  to a centroid is the cosine distance ``1 - cos``.

Ties go to the lowest centroid index; a cluster left empty keeps its centroid. Iterations stop when no
assignment changes or after ``iterations``. Distances are computed in blocks of rows (see :mod:`.geometry`).
"""

from __future__ import annotations

import numpy as np

from .geometry import row_blocks, squared_distances, squared_norms

__all__ = ["kmeans", "kmeans_plus_plus", "lloyd", "nearest_centroids", "unit_rows"]


def kmeans(x: np.ndarray, clusters: int, *, seed: int, iterations: int = 100,
           spherical: bool = False) -> np.ndarray:
    """Centroids ``(clusters, D)`` of ``x`` ``(n, D)`` (``x`` already in unit rows when ``spherical``)."""
    rng = np.random.default_rng(seed)
    return lloyd(x, kmeans_plus_plus(x, clusters, rng), iterations, spherical=spherical)


def kmeans_plus_plus(x: np.ndarray, clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: the first centroid a uniform row, each next a row drawn with probability proportional to
    its squared distance to the nearest centroid so far (uniform among the rows not yet drawn if all are 0)."""
    norms = squared_norms(x)
    picked = [int(rng.integers(len(x)))]
    nearest = np.maximum(norms - 2 * (x @ x[picked[0]]) + norms[picked[0]], 0).astype(np.float64)
    for _ in range(clusters - 1):
        nearest[picked] = 0
        total = nearest.sum()
        if total > 0:
            picked.append(int(rng.choice(len(x), p=nearest / total)))
        else:
            picked.append(int(rng.choice(np.setdiff1d(np.arange(len(x)), picked))))
        d = np.maximum(norms - 2 * (x @ x[picked[-1]]) + norms[picked[-1]], 0)
        np.minimum(nearest, d, out=nearest)
    return x[picked].copy()


def lloyd(x: np.ndarray, centroids: np.ndarray, iterations: int, *, spherical: bool = False) -> np.ndarray:
    """Lloyd iterations from ``centroids`` ``(c, D)`` until no assignment changes (at most ``iterations``)."""
    centroids = centroids.astype(x.dtype, copy=True)
    assigned = None
    for _ in range(iterations):
        labels, _ = nearest_centroids(x, centroids, spherical=spherical)
        if assigned is not None and np.array_equal(labels, assigned):
            break
        assigned = labels
        sums, counts = _cluster_sums(x, labels, len(centroids))
        filled = counts > 0
        if spherical:
            lengths = np.linalg.norm(sums, axis=1)
            filled &= lengths > 0
            centroids[filled] = sums[filled] / lengths[filled, None]
        else:
            centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


def nearest_centroids(x: np.ndarray, centroids: np.ndarray, *, spherical: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centroid (int64 ``(n,)``) and its distance (float64 ``(n,)``): Euclidean, or the cosine
    distance ``1 - cos`` when ``spherical`` (unit rows and centroids)."""
    labels = np.empty(len(x), dtype=np.int64)
    distances = np.empty(len(x), dtype=np.float64)
    norms, centroid_norms = squared_norms(x), squared_norms(centroids)
    for block in row_blocks(len(x), len(centroids), x.itemsize):
        if spherical:
            similarity = x[block] @ centroids.T
            labels[block] = np.argmax(similarity, axis=1)
            distances[block] = 1 - np.take_along_axis(similarity, labels[block, None], axis=1)[:, 0]
        else:
            d = squared_distances(x[block], norms[block], centroids, centroid_norms)
            labels[block] = np.argmin(d, axis=1)
            distances[block] = np.sqrt(np.take_along_axis(d, labels[block, None], axis=1)[:, 0])
    return labels, distances


def unit_rows(x: np.ndarray) -> np.ndarray:
    """``x`` with every non-zero row scaled to unit Euclidean norm (a copy)."""
    lengths = np.sqrt(squared_norms(x))
    return x / np.where(lengths > 0, lengths, 1)[:, None].astype(x.dtype)


def _cluster_sums(x: np.ndarray, labels: np.ndarray, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``(clusters, D)`` (float64) and count of the rows of each cluster, block by block."""
    sums = np.zeros((clusters, x.shape[1]), dtype=np.float64)
    for block in row_blocks(len(x), clusters, x.itemsize):
        one_hot = np.zeros((clusters, block.stop - block.start), dtype=x.dtype)
        one_hot[labels[block], np.arange(block.stop - block.start)] = 1
        sums += one_hot @ x[block]
    return sums, np.bincount(labels, minlength=clusters)
