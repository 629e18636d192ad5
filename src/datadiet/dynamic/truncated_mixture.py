"""Mixture of one to three normals truncated to [0, U], fitted to integer selection counts (Raju et al., Fig. 3).

Paper 2 separates "never", "sometimes" and "always" selected examples with a mixture of three normals truncated to
[0, U] (U = checkpoints x seeds). Counts are integers, so the model is of the counts, not of a density: under
component k (location mu_k, scale s_k), count j has the probability

    P_k(j) = (Phi((h_j - mu_k) / s_k) - Phi((l_j - mu_k) / s_k)) / (Phi((U - mu_k) / s_k) - Phi(-mu_k / s_k)),

the truncated normal's mass on the cell [l_j, h_j] = [j - 1/2, j + 1/2] clipped to [0, U] (the cell of 0 is
[0, 1/2], that of U is [U - 1/2, U]): a continuous draw rounded to the nearest integer. A cell's probability is
at most 1, so no component gains by shrinking onto one value. The fit is by maximum likelihood on the histogram
of counts (U + 1 cells, :mod:`~datadiet.dynamic.mixture_fit`); this module holds the model.

Components are sorted by their expected count, sum_j j P_k(j), and named: with three, "never", "sometimes",
"always" (paper 2's reading). With one, it is "never" if it is pressed against 0 (its normal's location is <= 0,
so its density falls across [0, U]), "always" if it is pressed against U (location >= U), and "sometimes"
otherwise: one binomial hump is "sometimes" (unless its mean count is below about one, or within one of U). With
two, the lower is "never" if its location is at most U / 3 and the higher "always" if its location is at least
2U / 3, each "sometimes" otherwise: two humps in the outer thirds (a low and a high one, as epsilon-greedy gives
with few checkpoints) are never and always, two humps in the middle third one "sometimes" group. Each
example belongs to the component of highest posterior, hence to that component's name;
:meth:`SelectionMixture.groups` always has the three names (a group without a component is empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

__all__ = ["NAMES", "SelectionMixture", "cell_log_probabilities", "component_names"]

NAMES = ("never", "sometimes", "always")
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along ``axis`` (plain NumPy: scipy's version costs ~1 ms a call here)."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.sum(np.exp(a - top), axis=axis)) + np.squeeze(top, axis=axis)


def log_mass(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """log(Phi(hi) - Phi(lo)) for standardized bounds lo < hi, stable in both tails."""
    flip = lo > 0
    lo, hi = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    log_hi, log_lo = log_ndtr(hi), log_ndtr(lo)
    return log_hi + np.log1p(-np.exp(log_lo - log_hi))


def cell_edges(upper: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges ``(U + 1,)`` of the cells of counts 0..U: [0, 1/2], [1/2, 3/2], ..., [U - 1/2, U]."""
    centres = np.arange(upper + 1, dtype=float)
    return np.clip(centres - 0.5, 0, upper), np.clip(centres + 0.5, 0, upper)


def cell_log_probabilities(means: np.ndarray, stds: np.ndarray, upper: int) -> np.ndarray:
    """log P_k(j) of each count j = 0..U under each component ``(G,)``, shape ``(U + 1, G)``."""
    lo, hi = cell_edges(upper)
    cells = log_mass((lo[:, None] - means) / stds, (hi[:, None] - means) / stds)
    return cells - log_mass((0.0 - means) / stds, (upper - means) / stds)


def component_names(means: np.ndarray, upper: int) -> tuple[str, ...]:
    """Names of components sorted by expected count, from their locations ``(G,)``, G <= 3.

    Three: never, sometimes, always. One: "never" if its location is <= 0 (its density falls across [0, U]),
    "always" if it is >= U (its density rises across [0, U]), else "sometimes". Two: the lower is "never" if its
    location is <= U / 3, the higher "always" if its location is >= 2U / 3; the others are "sometimes".
    """
    if len(means) == 3:
        return NAMES
    low, high = (0.0, float(upper)) if len(means) == 1 else (upper / 3, 2 * upper / 3)
    names = ["sometimes"] * len(means)
    if means[0] <= low:
        names[0] = "never"
    if means[-1] >= high:
        names[-1] = "always"
    return tuple(names)


@dataclass(frozen=True)
class SelectionMixture:
    """Fitted mixture of G (1 to 3) truncated normals on the counts 0..``upper``, sorted by expected count.

    ``weights``, ``means`` and ``stds`` ``(G,)``: each component's weight and its normal's location and scale
    before truncation (a location can lie outside [0, U]: a component pressed against a bound). ``names``
    ``(G,)``: the group of each component (see the module's docstring). ``log_likelihood``: of the integer counts.
    ``bic``: -2 log-likelihood + (3G - 1) log N (lower is better; with a minimum gain per example it chose G,
    see :mod:`~datadiet.dynamic.mixture_fit`).
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    names: tuple[str, ...]
    upper: int
    log_likelihood: float
    bic: float

    @property
    def pmf(self) -> np.ndarray:
        """P_k(j): probability of each count j = 0..U under each component, shape ``(U + 1, G)``."""
        return np.exp(cell_log_probabilities(self.means, self.stds, self.upper))

    @property
    def expected_counts(self) -> np.ndarray:
        """Mean count of each component ``(G,)``, in [0, U] and increasing."""
        return np.arange(self.upper + 1) @ self.pmf

    def weighted_logpmf(self, counts: np.ndarray) -> np.ndarray:
        """``log(weight_k) + log P_k(count)`` for integer ``counts`` ``(n,)`` in [0, U], shape ``(n, G)``."""
        cells = cell_log_probabilities(self.means, self.stds, self.upper)
        return np.log(self.weights) + cells[count_index(counts, self.upper)]

    def posterior(self, counts: np.ndarray) -> np.ndarray:
        """Posterior probability of each component per example, shape ``(n, G)``."""
        joint = self.weighted_logpmf(counts)
        return np.exp(joint - logsumexp(joint, axis=1)[:, None])

    def labels(self, counts: np.ndarray) -> np.ndarray:
        """"never" / "sometimes" / "always" per example ``(n,)``: the name of its component of highest posterior."""
        return np.asarray(self.names)[np.argmax(self.weighted_logpmf(counts), axis=1)]

    def groups(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Positions of the examples in each of the three groups, keyed by name (empty where no component)."""
        labels = self.labels(counts)
        return {name: np.flatnonzero(labels == name) for name in NAMES}

    def by_group(self) -> dict[str, tuple[float, float]]:
        """``{name: (weight, mean count)}`` of each group that has a component, its components pooled."""
        out = {}
        for name in NAMES:
            mine = np.asarray(self.names) == name
            if mine.any():
                weight = float(self.weights[mine].sum())
                out[name] = (weight, float(self.weights[mine] @ self.expected_counts[mine]) / weight)
        return out


def count_index(counts: np.ndarray, upper: int) -> np.ndarray:
    """``counts`` as indices 0..U; a ValueError for anything that is not a whole number in [0, U]."""
    counts = np.asarray(counts)
    if counts.ndim != 1 or not np.all(np.isfinite(counts)) or not np.array_equal(counts, np.rint(counts)):
        raise ValueError("counts must be a 1-D array of whole numbers (times each example was selected)")
    if len(counts) and (counts.min() < 0 or counts.max() > upper):
        raise ValueError(f"counts must lie in [0, upper={upper}], got [{counts.min()}, {counts.max()}]")
    return counts.astype(np.int64)
