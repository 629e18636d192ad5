"""How often each example was selected: always, sometimes or never (Raju et al., Fig. 3).

A pruner counts, per example, the checkpoints whose selection contained it (``DynamicPruner.counts``, out of
``num_checkpoints``). Over several seeds, counts are summed and the upper bound is U = checkpoints x seeds
(:func:`pool_counts`). :func:`fit_selection_mixture` fits, by maximum likelihood on the integer counts, a mixture
of one to three normals truncated to [0, U], the number chosen from the data by BIC with a minimum gain per
example (:mod:`~datadiet.dynamic.mixture_fit`; the model and the naming rule:
:mod:`~datadiet.dynamic.truncated_mixture`); each example is labelled "never", "sometimes" or "always" by its
component of highest posterior. :func:`plot_selection_counts` draws the histogram with each group's fitted count
probabilities.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import numpy as np

from datadiet.dynamic.mixture_fit import fit_selection_mixture
from datadiet.dynamic.truncated_mixture import NAMES, SelectionMixture

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
    """Histogram of ``counts`` (fraction of examples per count) with each group's weighted count probabilities
    and their sum, at the counts 0..U; saved to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(counts, dtype=float)
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = np.arange(fit.upper + 1)
    ax.hist(counts, bins=np.arange(-0.5, fit.upper + 1).tolist(), density=True, color="0.8", label="examples")
    weighted = fit.pmf * fit.weights
    for name, (weight, mean) in fit.by_group().items():
        mine = np.asarray(fit.names) == name
        ax.plot(values, weighted[:, mine].sum(axis=1), ".-", label=f"{name} (w={weight:.2f}, mean={mean:.1f})")
    plural = "s" if len(fit.names) > 1 else ""
    ax.plot(values, weighted.sum(axis=1), "k--", linewidth=1, label=f"mixture ({len(fit.names)} component{plural})")
    ax.set_xlabel(f"times selected (of {fit.upper} checkpoints)")
    ax.set_ylabel("fraction of examples")
    ax.set_title(title or "Selection counts")
    ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
