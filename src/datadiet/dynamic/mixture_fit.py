"""Maximum-likelihood fit of the selection-count mixture (Raju et al., Fig. 3), with 1 to 3 components.

The model (:mod:`~datadiet.dynamic.truncated_mixture`) gives each count j = 0..U a probability P_k(j) under
each truncated-normal component; the log-likelihood of the counts is log L = sum_j n_j log sum_k w_k P_k(j) over
the histogram n_j (U + 1 cells, whatever the number of examples N). It is maximised by L-BFGS-B with an analytic
gradient from several starts, for G = 1, 2 and 3 components (fewer where U is too small to identify them:
:func:`max_components`). Number of components: from G = 1, each larger G replaces the current choice if it lowers
BIC = -2 log L + (3G - 1) log N and raises log L / N by at least :data:`MIN_GAIN` (BIC alone, with hundreds of
thousands of examples, splits one binomial hump because a normal is not quite its shape). So random selection
gives one group, and groups against 0, inside and against U give three.
"""

from __future__ import annotations

import numpy as np

from datadiet.dynamic.truncated_mixture import (
    SelectionMixture, cell_edges, cell_log_probabilities, component_names, count_index, log_mass, logsumexp,
)

__all__ = ["MIN_GAIN", "fit_selection_mixture", "max_components"]

_MIN_STD = 0.1
MIN_GAIN = 0.02
"""Nats per example an added component must gain. A binomial hump (random selection) fitted by one truncated
normal leaves at most ~0.008 nats per example for a second component to take (measured for U = 2..160, p = 0.05
to 0.95), so without this floor a large N (>= ~200k) splits one hump into three; real structure gains far more
(a hump, a flat band and a spike at U: 0.35 for the second component, 0.06 for the third)."""
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _unpack(theta: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``theta`` = (G - 1 weight logits, the last fixed at 0; G locations; G log scales)."""
    logits = np.append(theta[: count - 1], 0.0)
    return np.exp(logits - logsumexp(logits, axis=0)), theta[count - 1 : 2 * count - 1], np.exp(theta[2 * count - 1 :])


def _log_mass_slopes(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For standardized bounds: log M = log(Phi(hi) - Phi(lo)), (phi(lo) - phi(hi)) / M and
    (lo phi(lo) - hi phi(hi)) / M, so that d log M / d mu = the second / s and d log M / d log s = the third."""
    mass = log_mass(lo, hi)
    at_lo, at_hi = (np.exp(-0.5 * t**2 - _LOG_SQRT_2PI - mass) for t in (lo, hi))
    return mass, at_lo - at_hi, lo * at_lo - hi * at_hi


def _nll_and_grad(theta: np.ndarray, hist: np.ndarray, count: int) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of the histogram ``hist`` ``(U + 1,)`` under ``count`` components, and its gradient.

    log P_k(j) = log M(cell j) - log M([0, U]), so each derivative is the cell's slope minus the bounds' slope.
    """
    weights, means, stds = _unpack(theta, count)
    upper = len(hist) - 1
    lo, hi = cell_edges(upper)
    cell, cell_mu, cell_s = _log_mass_slopes((lo[:, None] - means) / stds, (hi[:, None] - means) / stds)
    whole, whole_mu, whole_s = _log_mass_slopes((0.0 - means) / stds, (upper - means) / stds)
    joint = np.log(weights) + cell - whole
    total = logsumexp(joint, axis=1)
    resp = np.exp(joint - total[:, None]) * hist[:, None]
    grad = np.concatenate([(resp.sum(0) - hist.sum() * weights)[: count - 1],
                           (resp * (cell_mu - whole_mu)).sum(0) / stds, (resp * (cell_s - whole_s)).sum(0)])
    return -float(hist @ total), -grad


def _starts(hist: np.ndarray, count: int, restarts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Quantile start, evenly spread start, then random ones: ``restarts`` in all."""
    upper = len(hist) - 1
    quantiles = np.searchsorted(np.cumsum(hist) / hist.sum(), (2 * np.arange(count) + 1) / (2 * count))
    spread = np.linspace(0, upper, count) if count > 1 else np.array([upper / 2])
    scale = np.log(max(upper / (2 * count), 0.5))
    fixed = [np.concatenate([np.zeros(count - 1), means, np.full(count, scale)]) for means in (quantiles, spread)]
    random = [np.concatenate([rng.normal(0, 0.5, count - 1), np.sort(rng.uniform(-0.1, 1.1, count)) * upper,
                              rng.uniform(np.log(0.3), np.log(max(upper / 2, 0.6)), count)])
              for _ in range(max(restarts - 2, 0))]
    return [*fixed, *random][:restarts]


def _grown(hist: np.ndarray, fit: SelectionMixture) -> list[np.ndarray]:
    """Starts for one more component: ``fit``'s components plus a new one at 0, at U, and at the worst-fitted count
    (each new one with a tenth of the weight and a scale of one count)."""
    upper = len(hist) - 1
    worst = float(np.argmax(hist / hist.sum() - fit.pmf @ fit.weights))
    weights = np.append(0.9 * fit.weights, 0.1)
    logits = np.log(weights[:-1]) - np.log(weights[-1])
    return [np.concatenate([logits, np.append(fit.means, at), np.log(np.append(fit.stds, 1.0))])
            for at in dict.fromkeys((0.0, float(upper), worst))]


def _fit(hist: np.ndarray, count: int, starts: list[np.ndarray]) -> SelectionMixture:
    """Best of the L-BFGS-B fits with ``count`` components from ``starts``, sorted by expected count."""
    from scipy.optimize import minimize  # imported here: ~1 s, only needed by this analysis

    upper = len(hist) - 1
    bounds = ([(-10.0, 10.0)] * (count - 1) + [(-1.0 * upper, 2.0 * upper)] * count
              + [(np.log(_MIN_STD), np.log(2.0 * upper))] * count)
    low, high = np.array(bounds).T
    best = None
    for start in starts:
        result = minimize(_nll_and_grad, np.clip(start, low, high), args=(hist, count), jac=True,
                          method="L-BFGS-B", bounds=bounds)
        if np.isfinite(result.fun) and (best is None or result.fun < best.fun):
            best = result
    if best is None:
        raise ValueError(f"the {count}-group fit found no finite likelihood from {len(starts)} start(s)")
    weights, means, stds = _unpack(best.x, count)
    expected = np.arange(upper + 1) @ np.exp(cell_log_probabilities(means, stds, upper))
    order = np.argsort(expected, kind="stable")
    bic = 2 * float(best.fun) + (3 * count - 1) * np.log(hist.sum())
    return SelectionMixture(weights[order], means[order], stds[order], component_names(means[order], upper), upper,
                            -float(best.fun), bic)


def _histogram(counts: np.ndarray, upper: object) -> tuple[np.ndarray, int]:
    """Checked ``(U + 1,)`` histogram of ``counts`` and ``U``; a ValueError names what is wrong."""
    if isinstance(upper, bool) or not isinstance(upper, (int, float, np.integer, np.floating)) \
            or not float(upper).is_integer() or upper < 1:
        raise ValueError(f"upper (checkpoints x seeds) must be a whole number >= 1, got {upper!r}")
    counts = np.asarray(counts)
    if counts.ndim != 1 or len(counts) < 3:
        raise ValueError(f"need counts of shape (N,) with N >= 3, got shape {counts.shape}")
    return np.bincount(count_index(counts, int(upper)), minlength=int(upper) + 1).astype(float), int(upper)


def max_components(upper: int) -> int:
    """The most components counts 0..U can identify: 3G - 1 free parameters, at most U free cell probabilities
    (so 1 below U = 5, 2 below U = 8, else 3)."""
    return int(min(3, max(1, (upper + 1) // 3)))


def fit_selection_mixture(
    counts: np.ndarray, upper: int, *, components: int | None = None, restarts: int = 8, seed: int = 0
) -> SelectionMixture:
    """Fit the mixture to integer ``counts`` ``(N,)`` in [0, ``upper``] (U = checkpoints x seeds).

    ``components``: 1, 2 or 3 to force that many (3 is paper 2's choice; at most :func:`max_components`);
    None (default) chooses up to :func:`max_components`: G components replace the best fit so far if they lower
    the BIC and raise the mean log-likelihood per example by at least ``MIN_GAIN`` nats. ``restarts``: optimizer
    starts per G (plus, from G = 2, up to three grown from the G - 1 fit); the best optimum is kept,
    deterministically given ``seed``.
    """
    if components is not None and components not in (1, 2, 3):
        raise ValueError(f"components must be 1, 2, 3 or None (chosen from the data), got {components!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise ValueError(f"restarts must be a whole number >= 1, got {restarts!r}")
    hist, upper = _histogram(counts, upper)
    most = max_components(upper)
    if components is not None and components > most:
        raise ValueError(f"components={components} needs upper >= {3 * components - 1} (its free parameters); "
                         f"counts 0..{upper} identify at most {most}")
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    fits: list[SelectionMixture] = []
    with threadpool_limits(limits=1, user_api="blas"):  # threaded BLAS on tiny arrays: 10x slower on a busy CPU
        for count in range(1, (components or most) + 1):
            grown = _grown(hist, fits[-1]) if fits else []
            fits.append(_fit(hist, count, _starts(hist, count, restarts, rng) + grown))
    return fits[-1] if components else _choose(fits, hist.sum())


def _choose(fits: list[SelectionMixture], num_examples: float) -> SelectionMixture:
    """The fit with 1 component, replaced by each larger one that lowers the BIC and gains ``MIN_GAIN`` per example."""
    best = fits[0]
    for fit in fits[1:]:
        if fit.bic < best.bic and fit.log_likelihood - best.log_likelihood >= MIN_GAIN * num_examples:
            best = fit
    return best
