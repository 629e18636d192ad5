"""Embeddings and distances for the embedding-based selection rules, in bounded memory.

Conventions shared by :mod:`.kcenter`, :mod:`.herding`, :mod:`.facility_location`, :mod:`.d2`,
:mod:`.prototypes` and :mod:`.moderate`:

- **Embeddings** are a finite array ``(N, D)``, one row per example in the dataset's order (see
  :func:`datadiet.selection.embed`). They are computed on as float64 if given as float64, else as float32
  (no copy of a float32 array is made).
- **Distances** are Euclidean, ``||a - b||_2``, computed by the expansion ``||a||^2 - 2 a.b + ||b||^2`` in the
  embeddings' dtype and clipped at 0. Rules compare squared distances where only the order matters.
- **Memory**: no ``N x N`` matrix is ever built. Distances from many rows to many rows are computed in blocks
  of rows whose distance matrix takes at most :data:`BLOCK_BYTES`; nearest-neighbour graphs are exact
  (every pair is compared, block by block) and keep ``k`` neighbours per example, ``O(N k)`` memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BLOCK_BYTES", "check_embeddings", "check_neighbors", "rows_of", "squared_norms", "squared_distances",
           "row_blocks", "nearest_neighbors"]

BLOCK_BYTES = 64 * 2**20
"""Largest block of pairwise distances held at once (bytes)."""


def check_embeddings(embeddings: ArrayLike, n: int | None = None) -> np.ndarray:
    """``embeddings`` as a C-contiguous float32 (float64 if given so) array ``(N, D)``.

    Raises ``ValueError`` on another shape, a non-numeric dtype, NaN or infinite values, or (with ``n``) a
    number of rows other than ``n``.
    """
    e = np.asarray(embeddings)
    if e.ndim != 2 or 0 in e.shape:
        raise ValueError(f"embeddings must be a 2-D array (N, D), one row per example, got shape {e.shape}")
    if e.dtype == bool or not (np.issubdtype(e.dtype, np.integer) or np.issubdtype(e.dtype, np.floating)):
        raise ValueError(f"embeddings must be real numbers (float32 or float64), got {e.dtype}")
    if n is not None and len(e) != n:
        raise ValueError(f"embeddings have {len(e)} rows but there are {n} examples (one row per example)")
    e = np.ascontiguousarray(e, dtype=np.float64 if e.dtype == np.float64 else np.float32)
    bad = np.flatnonzero(~np.isfinite(e).all(axis=1))
    if len(bad):
        raise ValueError(f"embeddings contain NaN or infinite values in {len(bad)} rows (first at positions "
                         f"{bad[:5].tolist()}); embeddings must be finite")
    return e


def check_neighbors(k: int) -> None:
    """Raise ``ValueError`` unless ``k`` (neighbours per example) is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (neighbours per example) must be a positive integer, got {k!r}")


def rows_of(x: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``x[members]``, without a copy when ``members`` are all rows in order (``0..N-1``)."""
    return x if len(members) == len(x) else x[members]


def squared_norms(x: np.ndarray) -> np.ndarray:
    """``||x_i||^2`` of every row, shape ``(N,)``, in ``x``'s dtype."""
    return np.einsum("ij,ij->i", x, x)


def squared_distances(x: np.ndarray, x_norms: np.ndarray, y: np.ndarray,
                      y_norms: np.ndarray | None = None) -> np.ndarray:
    """Squared distances from every row of ``x`` ``(N, D)`` to every row of ``y`` ``(M, D)``: ``(N, M)``.

    ``x_norms`` (and ``y_norms``, computed if None) are :func:`squared_norms`. Callers keep ``N * M`` within
    :data:`BLOCK_BYTES`.
    """
    d = x @ y.T
    d *= -2
    d += x_norms[:, None]
    d += (squared_norms(y) if y_norms is None else y_norms)[None, :]
    return np.maximum(d, 0, out=d)


def row_blocks(rows: int, columns: int, itemsize: int = 8) -> Iterator[slice]:
    """Slices of ``0..rows-1`` whose ``(block, columns)`` matrices take at most :data:`BLOCK_BYTES`."""
    step = max(1, BLOCK_BYTES // (itemsize * max(columns, 1)))
    for start in range(0, rows, step):
        yield slice(start, min(start + step, rows))


def nearest_neighbors(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of every row of ``x`` ``(n, D)`` among the other rows.

    Candidates come from blocks of expanded squared distances; the ``k`` kept are then measured again directly,
    ``sqrt(sum_d (x_id - x_jd)^2)``, which is exact to rounding and symmetric (``d(i, j) == d(j, i)``).

    Returns:
        ``(distances, neighbors)``, each ``(n, k)``: Euclidean distances (float64) and row numbers (int64), each
        row ordered by increasing distance, ties by row number; a row is never its own neighbour. ``k`` is at
        most ``n - 1`` (0 gives empty arrays).
    """
    n = len(x)
    if k == 0:
        return np.zeros((n, 0)), np.zeros((n, 0), dtype=np.int64)
    norms = squared_norms(x)
    neighbors = np.empty((n, k), dtype=np.int64)
    for block in row_blocks(n, n, x.itemsize + 9):  # the block, argpartition's int64 columns, a boolean mask
        d = squared_distances(x[block], norms[block], x, norms)
        own = np.arange(block.start, block.stop)
        d[own - block.start, own] = np.inf
        neighbors[block] = _smallest(d, k)
    distances = np.empty((n, k), dtype=np.float64)
    for block in row_blocks(n, k * x.shape[1], 2 * x.itemsize):
        diff = x[block, None, :] - x[neighbors[block]]
        distances[block] = np.sqrt(np.einsum("ikd,ikd->ik", diff, diff, dtype=np.float64))
    order = np.lexsort((neighbors, distances), axis=1)
    return np.take_along_axis(distances, order, axis=1), np.take_along_axis(neighbors, order, axis=1)


def _smallest(d: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` smallest entries of every row of ``d``; at a tie for the ``k``-th value, the first."""
    columns = np.argpartition(d, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(d, columns, axis=1).max(axis=1)
    tied = np.flatnonzero((d <= kth[:, None]).sum(axis=1) > k)
    for r in tied:  # argpartition may keep any of the tied columns
        below = np.flatnonzero(d[r] < kth[r])
        columns[r] = np.concatenate([below, np.flatnonzero(d[r] == kth[r])[: k - len(below)]])
    return columns
