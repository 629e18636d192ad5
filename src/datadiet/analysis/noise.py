"""How well a score finds mislabeled examples (paper 1, Sec. 4 and Fig. 14).

Label noise permutes the labels of a chosen set of examples (the noise mask); a permutation leaves some of them
with their own label, so detection is reported against both the chosen set and the examples whose label
actually changed. A good noise detector gives noisy examples high scores.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from .plotting import new_figure, save_figure

__all__ = ["noise_detection", "plot_noise_histograms"]


def noise_detection(
    scores: ArrayLike, noise_mask: ArrayLike, *, changed_mask: ArrayLike | None = None
) -> dict[str, float]:
    """ROC AUC, precision and recall of high scores as a detector of noisy labels.

    Precision and recall are taken at the noise rate: among the m highest-scored examples, with m the number of
    examples in ``noise_mask`` (ties ordered as in :mod:`datadiet.selection`: later positions count as higher).
    Against ``noise_mask`` itself precision and recall coincide (m is its own size); against ``changed_mask``
    they differ.

    Args:
        scores: shape ``(N,)``, higher = more suspicious; ``+inf`` allowed, NaN is an error.
        noise_mask: bool ``(N,)``, the examples chosen for label noise.
        changed_mask: bool ``(N,)``, the examples whose label actually changed, or None.

    Returns:
        ``auc``, ``precision``, ``recall``, ``num_noisy``, ``noise_rate``, and with ``changed_mask`` also
        ``auc_changed``, ``precision_changed``, ``recall_changed``, ``num_changed``.
    """
    ranks = rankdata(_check_scores(scores))
    noisy = _check_mask(noise_mask, len(ranks), "noise_mask")
    top = np.zeros(len(ranks), dtype=bool)
    top[np.argsort(ranks, kind="stable")[len(ranks) - int(noisy.sum()):]] = True
    result = {"num_noisy": int(noisy.sum()), "noise_rate": float(noisy.mean())}
    result |= _detection(ranks, top, noisy, "noise_mask", "")
    if changed_mask is not None:
        changed = _check_mask(changed_mask, len(ranks), "changed_mask")
        result |= {"num_changed": int(changed.sum())} | _detection(ranks, top, changed, "changed_mask", "_changed")
    return result


def plot_noise_histograms(
    scores: ArrayLike,
    noise_mask: ArrayLike,
    path: str | os.PathLike,
    *,
    bins: int = 50,
    score_name: str = "score",
    title: str | None = None,
) -> Path:
    """Overlaid density histograms of the scores of clean and noisy examples; returns the written path.

    ``+inf`` scores cannot be drawn on the axis; their count per group is given in the legend.
    """
    s = _check_scores(scores)
    noisy = _check_mask(noise_mask, len(s), "noise_mask")
    finite = np.isfinite(s)
    edges = np.histogram_bin_edges(s[finite], bins=bins)
    figure, ax = new_figure(5.5, 4.0)
    for label, members, color in (("clean", ~noisy, "tab:blue"), ("noisy", noisy, "tab:red")):
        note = f", {int((members & ~finite).sum())} at +inf" if (members & ~finite).any() else ""
        ax.hist(s[members & finite], bins=edges.tolist(), density=True, alpha=0.55, color=color,
                label=f"{label} (n={int(members.sum())}{note})")
    ax.set_xlabel(score_name)
    ax.set_ylabel("density")
    ax.set_title(title or f"{score_name} of clean and noisy examples")
    ax.legend()
    return save_figure(figure, path)


def _detection(ranks: np.ndarray, top: np.ndarray, target: np.ndarray, name: str, suffix: str) -> dict[str, float]:
    if target.all() or not target.any():
        raise ValueError(f"{name} must mark some but not all examples, got {int(target.sum())} of {len(target)}")
    hits = int((top & target).sum())
    return {
        f"auc{suffix}": float(roc_auc_score(target, ranks)),
        f"precision{suffix}": hits / int(top.sum()),
        f"recall{suffix}": hits / int(target.sum()),
    }


def _check_scores(scores: ArrayLike) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError(f"scores contain {int(np.isnan(s).sum())} NaN values")
    return s


def _check_mask(mask: ArrayLike, n: int, name: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != (n,) or m.dtype != bool:
        raise ValueError(f"{name} must be a boolean array of shape ({n},), got {m.dtype} {m.shape}")
    return m
