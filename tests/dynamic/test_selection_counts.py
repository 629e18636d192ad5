"""Truncated-normal mixture of selection counts: recovery on synthetic counts, pooling and the plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import approx_fprime
from scipy.stats import truncnorm

from datadiet.dynamic import DynamicPruner, fit_selection_mixture, plot_selection_counts, pool_counts
from datadiet.dynamic.selection_counts import NAMES
from datadiet.dynamic.truncated_mixture import _component_logpdf, _expected_counts, _nll_and_grad

UPPER = 40
TRUE_MEANS, TRUE_STDS, TRUE_WEIGHTS = np.array([2.0, 18.0, 37.0]), np.array([2.0, 5.0, 2.5]), [0.35, 0.4, 0.25]


def synthetic_counts(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Integer counts drawn from three known normals truncated to [0, UPPER], and each draw's component."""
    rng = np.random.default_rng(seed)
    component = rng.choice(3, n, p=TRUE_WEIGHTS)
    a, b = (0 - TRUE_MEANS) / TRUE_STDS, (UPPER - TRUE_MEANS) / TRUE_STDS
    draws = truncnorm.rvs(a[component], b[component], loc=TRUE_MEANS[component], scale=TRUE_STDS[component],
                          random_state=rng)
    return np.rint(draws), component


def test_fit_recovers_the_components_and_labels():
    counts, component = synthetic_counts()
    fit = fit_selection_mixture(counts, UPPER)
    np.testing.assert_allclose(fit.means, TRUE_MEANS, atol=1.0)
    np.testing.assert_allclose(fit.weights, TRUE_WEIGHTS, atol=0.03)
    np.testing.assert_allclose(fit.stds, TRUE_STDS, rtol=0.2)
    labels = fit.labels(counts)
    assert np.mean(labels == np.asarray(NAMES)[component]) > 0.95
    assert np.allclose(fit.posterior(counts).sum(axis=1), 1.0)
    groups = fit.groups(counts)
    assert sorted(np.concatenate(list(groups.values())).tolist()) == list(range(len(counts)))


def test_fit_is_deterministic_and_validates():
    counts, _ = synthetic_counts(800, seed=1)
    assert fit_selection_mixture(counts, UPPER).log_likelihood == fit_selection_mixture(counts, UPPER).log_likelihood
    with pytest.raises(ValueError, match="must lie in"):
        fit_selection_mixture(counts, 10)
    with pytest.raises(ValueError, match="restarts"):
        fit_selection_mixture(counts, UPPER, restarts=0)


def test_pool_counts_over_seeds():
    total, upper = pool_counts([np.array([0, 2, 5]), np.array([1, 2, 4])], 5)
    assert total.tolist() == [1, 4, 9] and upper == 10
    assert pool_counts([np.array([1]), np.array([2])], [3, 4])[1] == 7
    with pytest.raises(ValueError, match="same shape"):
        pool_counts([np.zeros(2), np.zeros(3)], 4)


def test_plot_from_pruner_counts(tmp_path):
    counts, uppers = [], []
    for seed in range(3):
        pruner = DynamicPruner(300, policy="random", keep=0.5, period=1, seed=seed, class_balanced=False)
        for epoch in range(11):
            pruner.set_epoch(epoch)
        counts.append(pruner.counts.numpy())
        uppers.append(pruner.num_checkpoints)
    pooled, upper = pool_counts(counts, uppers)
    assert upper == 30 and pooled.sum() == 3 * 10 * 150
    fit = fit_selection_mixture(pooled, upper, restarts=3)
    path = plot_selection_counts(pooled, fit, tmp_path / "fig" / "counts.png", title="random dynamic")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert torch.is_tensor(pruner.counts)


def test_component_density_matches_scipy_truncnorm():
    x = np.arange(0, UPPER + 1, dtype=float)
    means, stds = np.array([-15.0, 18.0, 55.0]), np.array([0.5, 5.0, 3.0])
    expected = truncnorm.logpdf(x[:, None], -means / stds, (UPPER - means) / stds, loc=means, scale=stds)
    np.testing.assert_allclose(_component_logpdf(x, means, stds, UPPER), expected, rtol=1e-9, atol=1e-9)


def test_expected_counts_match_scipy_truncnorm():
    means, stds = np.array([-15.0, 18.0, 55.0]), np.array([30.0, 5.0, 3.0])
    expected = truncnorm.mean(-means / stds, (UPPER - means) / stds, loc=means, scale=stds)
    np.testing.assert_allclose(_expected_counts(means, stds, UPPER), expected, rtol=1e-9)


# Epsilon-greedy's pooled counts (24 selections, 39,000 examples) as a histogram: a hump at 3, a flat band and a
# spike at 23-24. The fitted band has its location parameter (2.6) below the hump's (3.1) and the spike's (36)
# above the range: named by location, the band would be "never".
EGREEDY_HISTOGRAM = [496, 2022, 3686, 4193, 3433, 2271, 1469, 932, 658, 583, 493, 569, 503, 523, 501, 461, 497, 506,
                     575, 668, 771, 1119, 2747, 5587, 3737]


def test_components_are_named_by_their_expected_count_not_their_location():
    counts = np.repeat(np.arange(25), EGREEDY_HISTOGRAM).astype(float)
    fit = fit_selection_mixture(counts, 24)
    assert np.all(np.diff(fit.expected_counts) > 0) and np.all((fit.expected_counts >= 0) & (fit.expected_counts <= 24))
    assert fit.labels(np.array([3.0, 12.0, 23.0])).tolist() == ["never", "sometimes", "always"]
    assert fit.expected_counts[0] < 5 and 8 < fit.expected_counts[1] < 16 and fit.expected_counts[2] > 20


@pytest.mark.parametrize("seed", range(3))
def test_likelihood_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    values, mult = np.arange(0.0, UPPER + 1), rng.integers(1, 50, UPPER + 1).astype(float)
    theta = np.concatenate([rng.normal(0, 1, 2), rng.uniform(-5, 45, 3), np.log(rng.uniform(0.5, 10, 3))])
    numeric = approx_fprime(theta, lambda t: _nll_and_grad(t, values, mult, UPPER)[0], 1e-6)
    np.testing.assert_allclose(_nll_and_grad(theta, values, mult, UPPER)[1], numeric, rtol=1e-4, atol=1e-3)
