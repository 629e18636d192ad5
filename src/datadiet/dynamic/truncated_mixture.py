"""Maximum-likelihood mixture of three normals truncated to [0, upper], for selection counts.

Components are sorted by their expected count (the mean of the truncated normal, in [0, upper]; not by their
location parameter, which can lie outside the range: a flat band has its location anywhere) and named "never",
"sometimes", "always"; an example belongs to the component of highest posterior. Counts are integers while the
components are densities, so each standard deviation is kept at least half a count (otherwise a component can
sit on one value with unbounded likelihood). The likelihood is evaluated once per distinct count value, weighted
by its multiplicity, with an analytic gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

__all__ = ["NAMES", "SelectionMixture", "fit_selection_mixture"]

NAMES = ("never", "sometimes", "always")
_MIN_STD = 0.5
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along ``axis`` (plain NumPy: scipy's version costs ~1 ms a call here)."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.sum(np.exp(a - top), axis=axis)) + np.squeeze(top, axis=axis)


def _log_mass(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """log(Phi(hi) - Phi(lo)) for standardized bounds lo < hi, stable in both tails."""
    flip = lo > 0
    lo, hi = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    log_hi, log_lo = log_ndtr(hi), log_ndtr(lo)
    return log_hi + np.log1p(-np.exp(log_lo - log_hi))


def _standardized_bounds(means: np.ndarray, stds: np.ndarray, upper: float) -> tuple[np.ndarray, np.ndarray]:
    return (0.0 - means) / stds, (upper - means) / stds


def _bound_densities(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``phi(a) / Z`` and ``phi(b) / Z`` with ``Z = Phi(b) - Phi(a)``: the truncation terms of the mean and gradient."""
    log_mass = _log_mass(a, b)
    return tuple(np.exp(-0.5 * t**2 - _LOG_SQRT_2PI - log_mass) for t in (a, b))


def _expected_counts(means: np.ndarray, stds: np.ndarray, upper: float) -> np.ndarray:
    """Mean of each normal ``(3,)`` truncated to [0, upper]: ``mu + s (phi(a) - phi(b)) / (Phi(b) - Phi(a))``."""
    phi_a, phi_b = _bound_densities(*_standardized_bounds(means, stds, upper))
    return np.clip(means + stds * (phi_a - phi_b), 0.0, upper)


def _component_logpdf(x: np.ndarray, means: np.ndarray, stds: np.ndarray, upper: float) -> np.ndarray:
    """log density of each normal ``(3,)`` truncated to [0, upper] at ``x`` ``(n,)``, shape ``(n, 3)``."""
    z = (np.asarray(x, dtype=float)[:, None] - means) / stds
    return -0.5 * z**2 - _LOG_SQRT_2PI - np.log(stds) - _log_mass(*_standardized_bounds(means, stds, upper))


@dataclass(frozen=True)
class SelectionMixture:
    """Fitted mixture on [0, ``upper``]: ``weights``, ``means`` and ``stds`` (the location and scale of each normal
    before truncation) of shape ``(3,)``, sorted by :attr:`expected_counts`."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    upper: float
    log_likelihood: float

    @property
    def expected_counts(self) -> np.ndarray:
        """Mean count of each component ``(3,)``, in [0, upper] and increasing: never, sometimes, always."""
        return _expected_counts(self.means, self.stds, self.upper)

    def weighted_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log(weight_k) + log pdf_k(x)``, shape ``(n, 3)``."""
        return np.log(self.weights) + _component_logpdf(x, self.means, self.stds, self.upper)

    def posterior(self, counts: np.ndarray) -> np.ndarray:
        """Posterior probability of each component per example, shape ``(n, 3)``."""
        joint = self.weighted_logpdf(counts)
        return np.exp(joint - _logsumexp(joint, axis=1)[:, None])

    def labels(self, counts: np.ndarray) -> np.ndarray:
        """"never" / "sometimes" / "always" per example, shape ``(n,)``."""
        return np.asarray(NAMES)[np.argmax(self.weighted_logpdf(counts), axis=1)]

    def groups(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Positions of the examples in each group, keyed by name."""
        labels = self.labels(counts)
        return {name: np.flatnonzero(labels == name) for name in NAMES}


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    logits = np.append(theta[:2], 0.0)
    return np.exp(logits - _logsumexp(logits, axis=0)), theta[2:5], np.exp(theta[5:8])


def _nll_and_grad(theta: np.ndarray, values: np.ndarray, mult: np.ndarray, upper: float):
    """Negative log-likelihood of ``values`` with multiplicities ``mult``, and its gradient in ``theta``.

    ``theta`` = (2 weight logits, 3 means, 3 log stds). With z = (x - mu) / s, Z = Phi(b) - Phi(a) over the
    standardized bounds, d log pdf / d mu = (z + (phi(b) - phi(a)) / Z) / s and
    d log pdf / d log s = z^2 - 1 + (b phi(b) - a phi(a)) / Z.
    """
    weights, means, stds = _unpack(theta)
    joint = np.log(weights) + _component_logpdf(values, means, stds, upper)
    z = (values[:, None] - means) / stds
    a, b = _standardized_bounds(means, stds, upper)
    total = _logsumexp(joint, axis=1)
    resp = np.exp(joint - total[:, None]) * mult[:, None]
    phi_a, phi_b = _bound_densities(a, b)
    d_mean = (z + phi_b - phi_a) / stds
    d_log_std = z**2 - 1 + b * phi_b - a * phi_a
    grad = np.concatenate([resp.sum(0)[:2] - mult.sum() * weights[:2], (resp * d_mean).sum(0),
                           (resp * d_log_std).sum(0)])
    return -float(np.dot(mult, total)), -grad


def _initial_points(counts: np.ndarray, upper: float, restarts: int, rng: np.random.Generator) -> list[np.ndarray]:
    spread = np.log(max(upper / 6, _MIN_STD))
    first = np.concatenate([[0.0, 0.0], np.quantile(counts, [1 / 6, 1 / 2, 5 / 6]), [spread] * 3])
    others = [
        np.concatenate([rng.normal(0, 0.5, 2), np.sort(rng.uniform(0, upper, 3)),
                        np.log(rng.uniform(_MIN_STD, max(upper / 3, _MIN_STD), 3))])
        for _ in range(restarts - 1)
    ]
    return [first, *others]


def fit_selection_mixture(
    counts: np.ndarray, upper: float, *, restarts: int = 8, seed: int = 0
) -> SelectionMixture:
    """Maximum-likelihood mixture of three normals truncated to [0, ``upper``] for ``counts`` ``(N,)``.

    L-BFGS-B from the quantile start and ``restarts - 1`` random starts; the best optimum is kept.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 1 or len(counts) < 3 or upper <= 0:
        raise ValueError(f"need counts of shape (N,), N >= 3, and upper > 0; got {counts.shape} and {upper}")
    if counts.min() < 0 or counts.max() > upper:
        raise ValueError(f"counts must lie in [0, upper={upper}], got [{counts.min()}, {counts.max()}]")
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    from scipy.optimize import minimize  # imported here: ~1 s, only needed by this analysis
    from threadpoolctl import threadpool_limits

    values, mult = np.unique(counts, return_counts=True)
    std_bounds = (np.log(_MIN_STD), np.log(max(upper, _MIN_STD)))
    bounds = [(-10, 10)] * 2 + [(-0.5 * upper, 1.5 * upper)] * 3 + [std_bounds] * 3
    best = None
    with threadpool_limits(limits=1, user_api="blas"):  # threaded BLAS on 9-vectors: 10x slower on a busy CPU
        for start in _initial_points(counts, upper, restarts, np.random.default_rng(seed)):
            start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
            result = minimize(_nll_and_grad, start, args=(values, mult, upper), jac=True, method="L-BFGS-B",
                              bounds=bounds)
            if np.isfinite(result.fun) and (best is None or result.fun < best.fun):
                best = result
    if best is None:
        raise ValueError(f"the mixture fit found no finite likelihood in {restarts} restart(s)")
    weights, means, stds = _unpack(best.x)
    order = np.argsort(_expected_counts(means, stds, float(upper)), kind="stable")
    return SelectionMixture(weights[order], means[order], stds[order], float(upper), -float(best.fun))
