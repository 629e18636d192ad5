"""How many runs a score needs: rank agreement of partial averages with the full average (paper 1, App. D.1).

For raw scores of R independent runs, the k-run average (runs ``0..k-1``) is compared with the R-run average by
Spearman's rho, for k = 1..R; the curve ends at 1. The paper sees about 0.75 for a single GraNd run against the
10-run average (Fig. 9-10, left). Because the curve depends on which runs come first, it can also be computed
over random orderings of the runs and reported as a mean and a spread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from .plotting import new_figure, save_figure

__all__ = ["averaging_stability", "averaging_stability_orderings", "plot_averaging_stability"]


def averaging_stability(runs: ArrayLike) -> np.ndarray:
    """Spearman's rho between the k-run and the R-run average, k = 1..R.

    Args:
        runs: raw scores of R runs, shape ``(R, N)`` (``+inf`` allowed, NaN is an error).

    Returns:
        Correlations, shape ``(R,)``; the last entry is 1.
    """
    r = _check_runs(runs)
    partial = np.cumsum(r, axis=0) / np.arange(1, len(r) + 1)[:, None]
    ranks = rankdata(partial, axis=1)
    centered = ranks - ranks.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centered, axis=1)
    if (norms == 0).any():
        k = int(np.flatnonzero(norms == 0)[0]) + 1
        raise ValueError(f"the average of the first {k} runs is constant: its rank correlation is undefined")
    rho = centered @ centered[-1] / (norms * norms[-1])
    return np.clip(rho, -1.0, 1.0)


def averaging_stability_orderings(runs: ArrayLike, *, orderings: int = 20, seed: int = 0) -> np.ndarray:
    """:func:`averaging_stability` for random orderings of the runs, shape ``(orderings, R)``.

    Summarize with e.g. ``curves.mean(0)`` and ``np.percentile(curves, [16, 84], axis=0)``.
    """
    r = _check_runs(runs)
    if int(orderings) != orderings or orderings < 1:
        raise ValueError(f"orderings must be a positive integer, got {orderings}")
    rng = np.random.default_rng(seed)
    return np.stack([averaging_stability(r[rng.permutation(len(r))]) for _ in range(int(orderings))])


def plot_averaging_stability(
    curves: Mapping[str, ArrayLike],
    path: str | os.PathLike,
    *,
    title: str = "Agreement of partial averages with the full average",
) -> Path:
    """Plot stability curves, one line per named score; returns the written path.

    Each value is one curve of shape ``(R,)`` or several of shape ``(P, R)`` (e.g. over orderings), drawn as
    their mean with a 16th-84th percentile band.
    """
    figure, ax = new_figure(5.5, 4.0)
    for name, curve in curves.items():
        c = np.atleast_2d(np.asarray(curve, dtype=np.float64))
        k = np.arange(1, c.shape[1] + 1)
        ax.plot(k, c.mean(axis=0), marker="o", label=name)
        if len(c) > 1:
            low, high = np.percentile(c, [16, 84], axis=0)
            ax.fill_between(k, low, high, alpha=0.25)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of runs averaged (k)")
    ax.set_ylabel("Spearman's rho with the all-run average")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(figure, path)


def _check_runs(runs: ArrayLike) -> np.ndarray:
    r = np.asarray(runs, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 1 or r.shape[1] < 2:
        raise ValueError(f"runs must have shape (R, N) with R >= 1 runs of N >= 2 scores, got {r.shape}")
    if np.isnan(r).any():
        raise ValueError(f"runs contain {int(np.isnan(r).sum())} NaN scores")
    return r
