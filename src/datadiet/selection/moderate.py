"""Moderate coreset selection (Moderate-DS; Xia, Liu, Yu, Shen, Han & Liu, "Moderate Coreset: A Universal Method
of Data Selection for Real-world Data-efficient Deep Learning", ICLR 2023).

Each example's score is the Euclidean distance of its embedding to its class's median embedding (the
coordinate-wise median of the class's rows),

    d_i = || e_i - median_{j : y_j = y_i} e_j ||_2,

and the kept examples are the ``round(keep * N)`` whose distance is closest to the median distance ``m`` of all
examples, ``|d_i - m|`` smallest (ties by position): neither the easiest (near the class centre) nor the hardest
(far out). ``class_balanced=True`` applies the rule within each class, around the class's median distance, with
the class's share of the budget (DeepCore's Moderate is class-balanced). Labels are required either way.

The authors' code keeps a window of ranks centred on the median rank of the sorted distances instead; the two
agree when the distances are symmetric about their median.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import check_labels, apply_budget, check_fraction, fraction_count
from .geometry import check_embeddings, row_blocks

__all__ = ["moderate", "median_distances"]


def moderate(embeddings: ArrayLike, keep: float, *, labels: ArrayLike, class_balanced: bool = False) -> np.ndarray:
    """Keep the ``round(keep * N)`` examples whose distance to their class median embedding is nearest the median
    distance; positions sorted ascending, int64.

    Args:
        embeddings: ``(N, D)``, one row per example.
        keep: fraction of examples to keep, in ``(0, 1]``.
        labels: integer labels ``(N,)`` (required: they define the class medians).
        class_balanced: select within each class with its share of the budget.
    """
    x = check_embeddings(embeddings)
    y = check_labels(labels, len(x))
    k = fraction_count(check_fraction("keep", keep), len(x))
    if not isinstance(class_balanced, (bool, np.bool_)):
        raise ValueError(f"class_balanced must be True or False, got {class_balanced!r}")
    d = median_distances(x, y)

    def choose(members: np.ndarray, count: int) -> np.ndarray:
        gap = np.abs(d[members] - np.median(d[members]))
        return members[np.argsort(gap, kind="stable")[:count]]

    return apply_budget(choose, len(x), k, y if class_balanced else None)


def median_distances(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Euclidean distance ``(N,)`` (float64) of every row of ``x`` to the coordinate-wise median of its class."""
    d = np.empty(len(x), dtype=np.float64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        centre = np.median(x[members], axis=0)
        for block in row_blocks(len(members), x.shape[1], x.itemsize):
            rows = members[block]
            d[rows] = np.linalg.norm(x[rows] - centre, axis=1)
    return d
