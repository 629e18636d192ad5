"""Selection-count mixture (paper 2, Fig. 3) on integer counts: recovery of known groups against the bounds, one
binomial hump as one group, the likelihood against a brute-force oracle, pooling and the plot.

Synthetic counts are continuous truncated-normal draws rounded to the nearest integer (the model's own
generative story) or binomial counts (random selection, which the model does not contain). Recovery means, over
several draws of N = 5000: the fitted names are the true groups, labels agree with the truth for >= 95% of the
examples (and within 1 point of the labels the true parameters give), and each weight is within 0.03 of the truth
(about 4.5 binomial standard deviations at N = 5000).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import approx_fprime
from scipy.stats import truncnorm

from datadiet.dynamic import DynamicPruner, fit_selection_mixture, plot_selection_counts, pool_counts
from datadiet.dynamic.mixture_fit import _nll_and_grad, max_components
from datadiet.dynamic.selection_counts import NAMES
from datadiet.dynamic.truncated_mixture import cell_log_probabilities, component_names
from reference import naive_count_log_likelihood, naive_count_log_probabilities

N, DRAWS, WEIGHT_TOLERANCE = 5000, range(4), 0.03

# name: (locations, scales, weights, U, true names); every group is separable (the true parameters label >= 98%).
GROUPS = {
    "both bounds, U=40": ([-1, 20, 41], [2, 5, 2], [0.3, 0.4, 0.3], 40, NAMES),
    "both bounds, U=8": ([-1, 4, 9], [0.7, 0.8, 0.7], [0.3, 0.4, 0.3], 8, NAMES),
    "against 0, U=40": ([-2, 22], [2, 6], [0.4, 0.6], 40, ("never", "sometimes")),
    "against 0, U=6": ([-1, 3.5], [0.7, 0.8], [0.4, 0.6], 6, ("never", "sometimes")),
    "against U, U=40": ([15, 42], [5, 2], [0.55, 0.45], 40, ("sometimes", "always")),
    "against U, U=5": ([2, 6], [0.7, 0.7], [0.6, 0.4], 5, ("sometimes", "always")),
}


def rounded_truncnorm(means, stds, weights, upper: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer counts: a draw of the truncated normal of a random component, rounded; and each draw's component."""
    means, stds = np.asarray(means, dtype=float), np.asarray(stds, dtype=float)
    rng = np.random.default_rng(seed)
    component = rng.choice(len(weights), N, p=weights)
    a, b = -means / stds, (upper - means) / stds
    draws = truncnorm.rvs(a[component], b[component], loc=means[component], scale=stds[component], random_state=rng)
    return np.rint(draws).astype(np.int64), component


@pytest.mark.parametrize("case", GROUPS)
def test_known_groups_are_recovered_with_their_names_weights_and_labels(case):
    means, stds, weights, upper, names = GROUPS[case]
    true_joint = np.log(weights) + cell_log_probabilities(np.asarray(means, float), np.asarray(stds, float), upper)
    for seed in DRAWS:
        counts, component = rounded_truncnorm(means, stds, weights, upper, seed)
        fit = fit_selection_mixture(counts, upper)
        assert fit.names == names, (seed, fit.names)
        np.testing.assert_allclose(fit.weights, weights, atol=WEIGHT_TOLERANCE, err_msg=f"draw {seed}")
        agreement = np.mean(fit.labels(counts) == np.asarray(names)[component])
        best_possible = np.mean(np.argmax(true_joint[counts], axis=1) == component)
        assert agreement >= 0.95 and agreement >= best_possible - 0.01, (seed, agreement, best_possible)
        truth = naive_count_log_likelihood(counts, weights, means, stds, upper)
        assert fit.log_likelihood >= truth - 1e-6  # the maximum is at least the true parameters' likelihood


@pytest.mark.parametrize("upper", [8, 40])
def test_groups_of_binomial_counts_are_recovered(upper):
    """Never / sometimes / always examples selected with probability 0.02 / 0.5 / 0.98 at each of U selections."""
    for seed in DRAWS:
        rng = np.random.default_rng(seed)
        component = rng.choice(3, N, p=[0.3, 0.4, 0.3])
        counts = rng.binomial(upper, np.array([0.02, 0.5, 0.98])[component])
        fit = fit_selection_mixture(counts, upper)
        assert fit.names == NAMES
        np.testing.assert_allclose(fit.weights, [0.3, 0.4, 0.3], atol=WEIGHT_TOLERANCE, err_msg=f"draw {seed}")
        assert np.mean(fit.labels(counts) == np.asarray(NAMES)[component]) >= 0.95


@pytest.mark.parametrize(("upper", "p"), [(4, 0.5), (6, 0.5), (6, 0.3), (40, 0.3), (80, 0.3)])
def test_one_binomial_hump_is_one_sometimes_group(upper, p):
    """Random dynamic selection: every example has the same chance, so there is one group and no never / always."""
    for seed in range(3):
        counts = np.random.default_rng(seed).binomial(upper, p, N)
        fit = fit_selection_mixture(counts, upper)
        assert fit.names == ("sometimes",), (seed, fit.names, fit.weights)
        groups = fit.groups(counts)
        assert len(groups["sometimes"]) == N and len(groups["never"]) == len(groups["always"]) == 0


def test_many_examples_do_not_split_one_hump():
    """BIC alone splits a binomial hump into three with N = 400,000 (its shape is not quite a normal's)."""
    counts = np.random.default_rng(0).binomial(40, 0.3, 400_000)
    assert fit_selection_mixture(counts, 40).names == ("sometimes",)


def test_the_number_of_components_is_capped_by_what_the_counts_identify():
    assert [max_components(u) for u in (1, 2, 4, 5, 7, 8, 100)] == [1, 1, 1, 2, 2, 3, 3]
    counts, _ = rounded_truncnorm([-0.5, 2.5, 5.5], [0.5, 0.5, 0.5], [0.3, 0.4, 0.3], 5, seed=0)
    assert len(fit_selection_mixture(counts, 5).names) <= 2
    with pytest.raises(ValueError, match="components=3 needs upper >= 8"):
        fit_selection_mixture(counts, 5, components=3)


def test_three_components_can_be_forced():
    counts = np.random.default_rng(0).binomial(40, 0.3, 2000)
    fit = fit_selection_mixture(counts, 40, components=3)
    assert fit.names == NAMES and np.all(np.diff(fit.expected_counts) > 0)
    assert fit_selection_mixture(counts, 40, components=1).names == ("sometimes",)


def test_posterior_labels_and_groups_are_consistent():
    counts, _ = rounded_truncnorm(*GROUPS["both bounds, U=40"][:4], seed=0)
    fit = fit_selection_mixture(counts, 40)
    posterior = fit.posterior(counts)
    assert posterior.shape == (N, 3) and np.allclose(posterior.sum(axis=1), 1.0)
    assert (fit.labels(counts) == np.asarray(fit.names)[posterior.argmax(axis=1)]).all()
    groups = fit.groups(counts)
    assert sorted(np.concatenate(list(groups.values())).tolist()) == list(range(N))
    assert set(fit.by_group()) == set(NAMES) and np.isclose(sum(w for w, _ in fit.by_group().values()), 1.0)


def test_one_or_two_components_are_named_by_where_they_sit():
    """One component: location <= 0, the density falls across [0, U] ("never"); >= U: it rises ("always"); a hump
    inside is "sometimes". Two: the lower is "never" in the lowest third, the higher "always" in the highest."""
    upper = 12
    assert component_names(np.array([-0.5]), upper) == ("never",)
    assert component_names(np.array([12.5]), upper) == ("always",)
    assert component_names(np.array([0.2]), upper) == ("sometimes",)
    assert component_names(np.array([3.0]), upper) == ("sometimes",)
    assert component_names(np.array([2.5, 10.5]), upper) == ("never", "always")  # epsilon-greedy, 12 checkpoints
    assert component_names(np.array([4.5, 7.5]), upper) == ("sometimes", "sometimes")
    assert component_names(np.array([4.0, 11.0]), upper) == ("never", "always")  # the thirds are inclusive
    assert component_names(np.array([5.0, 13.0]), upper) == ("sometimes", "always")
    assert component_names(np.array([-0.5, 12.0]), upper) == ("never", "always")
    assert component_names(np.array([-9.0, 0.0, 30.0]), upper) == NAMES  # three: the paper's names, by order


def test_fit_is_deterministic_and_validates():
    counts, _ = rounded_truncnorm(*GROUPS["both bounds, U=40"][:4], seed=1)
    assert fit_selection_mixture(counts, 40).log_likelihood == fit_selection_mixture(counts, 40).log_likelihood
    assert fit_selection_mixture(counts.astype(float), 40.0).log_likelihood == fit_selection_mixture(
        counts, 40).log_likelihood
    for bad, match in [((counts, 10), "must lie in"), ((counts + 0.5, 41), "whole numbers"),
                       ((counts, 40.5), "whole number >= 1"), ((counts, 0), "whole number >= 1"),
                       ((counts[:2], 40), "N >= 3"), ((counts.reshape(-1, 2), 40), r"shape \(N,\)")]:
        with pytest.raises(ValueError, match=match):
            fit_selection_mixture(*bad)
    with pytest.raises(ValueError, match="restarts"):
        fit_selection_mixture(counts, 40, restarts=0)
    with pytest.raises(ValueError, match="components must be 1, 2, 3"):
        fit_selection_mixture(counts, 40, components=4)
    with pytest.raises(ValueError, match="must lie in"):
        fit_selection_mixture(counts, 40).labels(np.array([41]))


def test_degenerate_counts_give_one_group():
    assert fit_selection_mixture(np.zeros(50, dtype=int), 6).names == ("never",)
    assert fit_selection_mixture(np.full(50, 6), 6).names == ("always",)
    assert len(fit_selection_mixture(np.array([0, 1, 1, 0, 1]), 1).names) == 1  # one selection identifies one


# --- the likelihood against the brute-force oracle -------------------------------------------------------------


@pytest.mark.parametrize(("means", "stds"), [
    ([-5.0, 5.0, 17.0, -2.0, 13.5], [0.1, 2.0, 0.1, 3.0, 30.0]),  # point masses at the bounds, a hump, a flat band
    ([-30.0, 40.0, -12.0, 24.0], [0.1, 0.1, 0.1, 0.1]),  # hundreds to 45,000 nats outside [0, U]
])
def test_cell_probabilities_match_the_definition(means, stds):
    got = cell_log_probabilities(np.array(means), np.array(stds), 12)
    expected = np.array(naive_count_log_probabilities(means, stds, 12))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    assert np.allclose(np.exp(got).sum(axis=0), 1.0) and np.all(got <= 0)  # no cell holds more than everything


def test_fitted_log_likelihood_is_the_integer_count_likelihood():
    counts, _ = rounded_truncnorm(*GROUPS["against 0, U=6"][:4], seed=0)
    counts = counts[:300]
    fit = fit_selection_mixture(counts, 6)
    expected = naive_count_log_likelihood(counts, fit.weights, fit.means, fit.stds, 6)
    assert fit.log_likelihood == pytest.approx(expected, rel=1e-9)
    joint = fit.weighted_logpmf(counts)
    assert np.log(np.exp(joint).sum(axis=1)).sum() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_likelihood_and_gradient_match_the_oracle_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    upper, count = 20, 3
    hist = rng.integers(1, 50, upper + 1).astype(float)
    theta = np.concatenate([rng.normal(0, 1, count - 1), rng.uniform(-5, 25, count), np.log(rng.uniform(0.3, 10, 3))])
    logits = np.append(theta[:2], 0.0)
    weights = np.exp(logits) / np.exp(logits).sum()
    counts = np.repeat(np.arange(upper + 1), hist.astype(int))
    nll, grad = _nll_and_grad(theta, hist, count)
    assert -nll == pytest.approx(naive_count_log_likelihood(counts, weights, theta[2:5], np.exp(theta[5:]), upper),
                                 rel=1e-9)
    numeric = approx_fprime(theta, lambda t: _nll_and_grad(t, hist, count)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)


# --- a real histogram, pooling, the plot ----------------------------------------------------------------------

# Epsilon-greedy's pooled counts (24 selections, 39,000 examples) as a histogram: a hump at 3, a flat band and a
# spike at 23-24. The fitted band's location lies below the hump's and the spike's above the range: named by
# location, the band would be "never".
EGREEDY_HISTOGRAM = [496, 2022, 3686, 4193, 3433, 2271, 1469, 932, 658, 583, 493, 569, 503, 523, 501, 461, 497, 506,
                     575, 668, 771, 1119, 2747, 5587, 3737]


def test_components_are_named_by_their_expected_count_not_their_location():
    counts = np.repeat(np.arange(25), EGREEDY_HISTOGRAM)
    fit = fit_selection_mixture(counts, 24)
    assert fit.names == NAMES
    assert np.all(np.diff(fit.expected_counts) > 0) and np.all((fit.expected_counts >= 0) & (fit.expected_counts <= 24))
    assert fit.labels(np.array([3, 12, 23])).tolist() == ["never", "sometimes", "always"]
    assert fit.expected_counts[0] < 5 and 8 < fit.expected_counts[1] < 16 and fit.expected_counts[2] > 20


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
    assert fit.names == ("sometimes",)  # random selection
    path = plot_selection_counts(pooled, fit, tmp_path / "fig" / "counts.png", title="random dynamic")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert torch.is_tensor(pruner.counts)
    three = fit_selection_mixture(pooled, upper, components=3)
    assert plot_selection_counts(pooled, three, tmp_path / "three.png").is_file()
