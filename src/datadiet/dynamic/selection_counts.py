"""How often each example was selected: always, sometimes or never (Raju et al., Fig. 3).

A pruner counts, per example, the checkpoints whose selection contained it (``DynamicPruner.counts``, out of
``num_checkpoints``). Over several seeds, counts are summed and the upper bound is checkpoints x seeds
(:func:`pool_counts`). :func:`fit_selection_mixture` fits, by maximum likelihood, a mixture of three normals
truncated to [0, upper] (:mod:`~datadiet.dynamic.truncated_mixture`); each example is labelled by the component
of highest posterior, the components sorted by their mean count: "never", "sometimes", "always".
:func:`plot_selection_counts` draws the histogram with the fitted densities.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import numpy as np

from datadiet.dynamic.truncated_mixture import NAMES, SelectionMixture, fit_selection_mixture

__all__ = ["NAMES", "SelectionMixture", "fit_selection_mixture", "plot_selection_counts", "pool_counts"]


def pool_counts(counts: Sequence[np.ndarray], num_checkpoints: int | Sequence[int]) -> tuple[np.ndarray, int]:
    """Sum per-seed counts ``(N,)``; the upper bound is the total number of checkpoints over seeds."""
    arrays = [np.asarray(c, dtype=np.int64) for c in counts]
    if not arrays or any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError("need at least one counts array, all of the same shape (N,)")
    per_seed = ([num_checkpoints] * len(arrays) if isinstance(num_checkpoints, (int, np.integer))
                else list(num_checkpoints))
    if len(per_seed) != len(arrays):
        raise ValueError(f"{len(arrays)} counts arrays but {len(per_seed)} checkpoint numbers")
    return np.sum(arrays, axis=0), int(sum(per_seed))


def plot_selection_counts(counts: np.ndarray, fit: SelectionMixture, path: str | Path, *,
                          title: str | None = None) -> Path:
    """Histogram of ``counts`` with each fitted component's weighted density and their sum; saved to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(counts, dtype=float)
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    edges = np.arange(-0.5, np.floor(fit.upper) + 1.5)
    ax.hist(counts, bins=edges.tolist(), density=True, color="0.8", label="examples")
    grid = np.linspace(0, fit.upper, 400)
    dens = np.exp(fit.weighted_logpdf(grid))
    expected = fit.expected_counts
    for k, name in enumerate(NAMES):
        ax.plot(grid, dens[:, k], label=f"{name} (w={fit.weights[k]:.2f}, mean={expected[k]:.1f})")
    ax.plot(grid, dens.sum(axis=1), "k--", linewidth=1, label="mixture")
    ax.set_xlabel(f"times selected (of {fit.upper:g} checkpoints)")
    ax.set_ylabel("density")
    ax.set_title(title or "Selection counts")
    ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
