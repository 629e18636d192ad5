"""Herding selection (Welling, "Herding Dynamical Weights to Learn", ICML 2009; as used for coresets by Chen,
Welling & Smola 2010 and DeepCore's ``Herding``).

Greedily add the example that brings the mean of the selected embeddings closest to the mean of all embeddings
``mu``: with ``S_t`` the first ``t`` selected examples,

    s_{t+1} = argmin_{i not in S_t} || mu - (sum_{j in S_t} e_j + e_i) / (t + 1) ||_2,

computed as the equivalent ``|| (t + 1) mu - sum_{j in S_t} e_j - e_i ||``. Deterministic; ties go to the lowest
position. With labels each class tracks its own mean. There are no scores: earlier = more representative of the
mean. Memory: the embeddings plus one distance per example; each step costs one pass over the embeddings.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .budget import apply_budget, check_fraction, fraction_count
from .geometry import check_embeddings, rows_of, squared_norms

__all__ = ["herding", "herding_order"]


def herding(embeddings: ArrayLike, keep: float, *, labels: ArrayLike | None = None) -> np.ndarray:
    """Herding selection of ``round(keep * N)`` examples; positions sorted ascending, int64.

    Args:
        embeddings: ``(N, D)``, one row per example (see :mod:`.geometry`).
        keep: fraction of examples to keep, in ``(0, 1]``.
        labels: integer labels ``(N,)`` for the class-balanced variant (each class matches its own mean), or None.
    """
    x = check_embeddings(embeddings)
    k = fraction_count(check_fraction("keep", keep), len(x))
    return apply_budget(lambda members, count: members[herding_order(rows_of(x, members), count)], len(x), k,
                        labels)


def herding_order(x: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` rows of ``x`` ``(n, D)`` chosen by herding, in order of selection, int64."""
    norms = squared_norms(x)
    mean = x.mean(axis=0, dtype=np.float64)
    total = np.zeros(x.shape[1], dtype=np.float64)
    taken = np.zeros(len(x), dtype=bool)
    chosen = np.empty(count, dtype=np.int64)
    for t in range(count):
        target = ((t + 1) * mean - total).astype(x.dtype)
        d = norms - 2 * (x @ target)  # ||target - e_i||^2 less the constant ||target||^2
        d[taken] = np.inf
        chosen[t] = int(np.argmin(d))
        taken[chosen[t]] = True
        total += x[chosen[t]]
    return chosen
