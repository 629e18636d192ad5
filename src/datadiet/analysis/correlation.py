"""Rank correlations between scores (paper 1, Fig. 12: pairwise Spearman correlations of GraNd, EL2N, ...).

Spearman's rho is the Pearson correlation of the average ranks (as in :func:`scipy.stats.spearmanr`), so ``+inf``
scores (never-learned examples) simply share the top rank. NaN scores are an error, and so is a constant
score, whose correlation is undefined.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from .plotting import new_figure, save_figure

__all__ = ["score_ranks", "rank_correlation", "correlation_matrix", "plot_correlation_matrix"]


def score_ranks(scores: ArrayLike, name: str = "scores") -> np.ndarray:
    """Average ranks (1..N, ties share their mean rank) of scores of shape ``(N,)``; NaN raises ``ValueError``."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or len(s) < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 scores, got shape {s.shape}")
    nan = np.flatnonzero(np.isnan(s))
    if len(nan):
        raise ValueError(f"{name} contains {len(nan)} NaN values (first at positions {nan[:5].tolist()})")
    if s.min() == s.max():
        raise ValueError(f"{name} is constant ({s[0]}): its rank correlation is undefined")
    return rankdata(s)


def rank_correlation(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman rank correlation of two score arrays of shape ``(N,)``, in ``[-1, 1]``."""
    return float(correlation_matrix({"a": a, "b": b})[1][0, 1])


def correlation_matrix(scores: Mapping[str, ArrayLike]) -> tuple[list[str], np.ndarray]:
    """Pairwise Spearman correlations of named scores (each of shape ``(N,)``, the same N).

    Returns:
        ``(names, matrix)``: the names in the mapping's order and the ``(M, M)`` symmetric correlation matrix
        with ones on the diagonal.
    """
    names = list(scores)
    if not names:
        raise ValueError("correlation_matrix needs at least one named score")
    ranks = [score_ranks(scores[name], name) for name in names]
    lengths = {name: len(r) for name, r in zip(names, ranks)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"all scores must cover the same examples; lengths differ: {lengths}")
    matrix = np.clip(np.atleast_2d(np.corrcoef(np.stack(ranks))), -1.0, 1.0)
    np.fill_diagonal(matrix, 1.0)
    return names, matrix


def plot_correlation_matrix(
    names: Sequence[str],
    matrix: ArrayLike,
    path: str | os.PathLike,
    *,
    title: str = "Spearman rank correlation between scores",
) -> Path:
    """Heatmap of a correlation matrix with each value written in its cell; returns the written path."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (len(names), len(names)):
        raise ValueError(f"matrix must have shape ({len(names)}, {len(names)}) for {len(names)} names, got {m.shape}")
    size = 2.0 + 0.8 * len(names)
    figure, ax = new_figure(size + 1.0, size)
    image = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    figure.colorbar(image, ax=ax, label="Spearman's rho")
    ax.set_xticks(range(len(names)), labels=names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), labels=names)
    for (i, j), value in np.ndenumerate(m):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if abs(value) > 0.6 else "black")
    ax.set_title(title)
    return save_figure(figure, path)
