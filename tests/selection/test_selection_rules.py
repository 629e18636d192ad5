"""Selection rules against naive sorted-list references, on random scores with many ties."""

from __future__ import annotations

import numpy as np
import pytest
from reference import (
    naive_count,
    naive_keep_highest,
    naive_keep_lowest,
    naive_largest_remainder,
    naive_window,
)

from datadiet.selection import keep_highest, keep_lowest, random_subset, sliding_window
from datadiet.selection.budget import class_budgets, fraction_count

SEEDS = range(12)


def random_case(seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Scores with ties and some +inf, labels of 1-5 unequal classes, and a keep fraction."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    scores = rng.integers(0, max(2, n // 3), n).astype(float)
    scores[rng.random(n) < 0.05] = np.inf
    labels = rng.choice(int(rng.integers(1, 6)), n, p=None) * 3 + 1
    keep = float(rng.choice([1.0, 0.5, 0.3, 0.15, 0.018, round(float(rng.random()), 3) or 0.5]))
    return scores, labels, keep


def check_positions(positions: np.ndarray, n: int, k: int) -> None:
    assert positions.dtype == np.int64 and positions.shape == (k,)
    assert np.all(np.diff(positions) > 0), "sorted and unique"
    assert positions.min() >= 0 and positions.max() < n


@pytest.mark.parametrize("seed", SEEDS)
def test_keep_highest_and_lowest_match_sorted_list_reference(seed: int) -> None:
    scores, _, keep = random_case(seed)
    k = naive_count(keep, len(scores))
    if k == 0:
        pytest.skip("keep rounds to no example")
    high, low = keep_highest(scores, keep), keep_lowest(scores, keep)
    check_positions(high, len(scores), k)
    check_positions(low, len(scores), k)
    assert high.tolist() == naive_keep_highest(scores, k)
    assert low.tolist() == naive_keep_lowest(scores, k)


@pytest.mark.parametrize("seed", SEEDS)
def test_sliding_window_matches_reference_and_quantiles(seed: int) -> None:
    scores, _, _ = random_case(seed)
    rng = np.random.default_rng(seed)
    size = round(float(rng.uniform(0.05, 1.0)), 2)
    offset = round(float(rng.uniform(0, 1 - size)), 2)
    if naive_count(size, len(scores)) == 0 or offset + size > 1:
        pytest.skip("window rounds to no example")
    kept = sliding_window(scores, size, offset=offset)
    check_positions(kept, len(scores), naive_count(size, len(scores)))
    assert kept.tolist() == naive_window(scores, offset, size)
    ranked = np.sort(scores)
    start = min(naive_count(offset, len(scores)), len(scores) - len(kept))
    low, high = ranked[start], ranked[start + len(kept) - 1]
    assert np.all((scores[kept] >= low) & (scores[kept] <= high)), "kept scores lie between the quantiles"
    inside = np.flatnonzero((scores > low) & (scores < high))
    assert np.isin(inside, kept).all(), "everything strictly inside the window is kept"


def test_sliding_window_ends_like_keep_highest_and_starts_like_keep_lowest() -> None:
    scores = np.random.default_rng(0).normal(size=101)
    for f in (0.1, 0.25, 0.5, 0.73, 1.0):
        assert np.array_equal(sliding_window(scores, f, offset=1 - f), keep_highest(scores, f))
        assert np.array_equal(sliding_window(scores, f, offset=0), keep_lowest(scores, f))


def test_window_keeps_scores_between_quantiles() -> None:
    scores = np.random.default_rng(1).permutation(1000).astype(float)
    kept = sliding_window(scores, 0.3, offset=0.2)
    assert len(kept) == 300 and scores[kept].min() == 200 and scores[kept].max() == 499


def test_ties_break_by_position() -> None:
    scores = np.zeros(6)
    assert keep_highest(scores, 0.5).tolist() == [3, 4, 5]
    assert keep_lowest(scores, 0.5).tolist() == [0, 1, 2]


def test_inf_ranks_above_every_finite_score() -> None:
    scores = np.array([np.inf, 1e300, 0.0, np.inf, -5.0])
    assert keep_highest(scores, 0.4).tolist() == [0, 3]
    assert keep_lowest(scores, 0.6).tolist() == [1, 2, 4]


@pytest.mark.parametrize("seed", SEEDS)
def test_class_balanced_budgets_are_exact_and_rule_applies_within_classes(seed: int) -> None:
    scores, labels, keep = random_case(seed)
    k = naive_count(keep, len(scores))
    if k == 0:
        pytest.skip("keep rounds to no example")
    classes, sizes = np.unique(labels, return_counts=True)
    budgets = naive_largest_remainder(sizes.tolist(), k)
    assert class_budgets(labels, k)[1].tolist() == budgets and sum(budgets) == k
    for rule in (keep_highest, keep_lowest):
        kept = rule(scores, keep, labels=labels)
        check_positions(kept, len(scores), k)
        for c, budget in zip(classes, budgets):
            members = np.flatnonzero(labels == c)
            naive = naive_keep_highest if rule is keep_highest else naive_keep_lowest
            assert kept[labels[kept] == c].tolist() == members[naive(scores[members], budget)].tolist()
    stratified = random_subset(len(scores), keep, seed=seed, labels=labels)
    check_positions(stratified, len(scores), k)
    assert [int((labels[stratified] == c).sum()) for c in classes] == budgets


def test_class_balanced_window_applies_offset_within_each_class() -> None:
    labels = np.repeat([0, 1], [10, 20])
    scores = np.r_[np.arange(10.0), 100 + np.arange(20.0)]
    kept = sliding_window(scores, 0.3, offset=0.5, labels=labels)
    assert kept.tolist() == [5, 6, 7] + [20, 21, 22, 23, 24, 25]


def test_largest_remainder_ties_go_to_smaller_label() -> None:
    assert class_budgets(np.array([5, 5, 2, 2, 9, 9]), 2)[1].tolist() == [1, 1, 0]


def test_random_subset_is_uniform_and_seeded() -> None:
    draws = np.stack([random_subset(10, 0.3, seed=s) for s in range(3000)])
    assert all(len(np.unique(d)) == 3 for d in draws[:50])
    frequency = np.bincount(draws.ravel(), minlength=10) / len(draws)
    assert np.allclose(frequency, 0.3, atol=0.03)
    assert np.array_equal(random_subset(50, 0.5, seed=7), random_subset(50, 0.5, seed=7))
    assert not np.array_equal(random_subset(50, 0.5, seed=7), random_subset(50, 0.5, seed=8))


def test_fraction_count_rounds_half_up_as_written() -> None:
    assert [fraction_count(0.5, n) for n in (1, 3, 5)] == [1, 2, 3]
    assert fraction_count(0.018, 750) == 14
    for j in range(1, 200):
        for n in (1, 7, 10, 750, 1500, 60000):
            assert fraction_count(j / 200, n) == naive_count(j / 200, n)


@pytest.mark.parametrize("bad", [[1.0, np.nan, 2.0], [1.0, -np.inf]])
def test_nan_and_negative_inf_scores_are_errors(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="NaN or -inf"):
        keep_highest(np.array(bad), 0.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: keep_highest(s, 0.0), "keep must be a fraction in"),
        (lambda s: keep_lowest(s, 1.5), "keep must be a fraction in"),
        (lambda s: keep_highest(s, 0.01), "no example"),
        (lambda s: sliding_window(s, 0.5, offset=-0.1), "offset"),
        (lambda s: sliding_window(s, 0.5, offset=0.6), "offset \\+ keep must be at most 1"),
        (lambda s: sliding_window(s, 0.0, offset=0.2), "keep"),
        (lambda s: keep_highest(s, 0.5, labels=np.zeros(3, dtype=int)), "labels must be integers of shape"),
        (lambda s: keep_highest(s, 0.5, labels=np.zeros(10)), "labels must be integers"),
        (lambda s: keep_highest(s.reshape(2, 5), 0.5), "1-D"),
        (lambda s: random_subset(0, 0.5, seed=0), "positive number"),
    ],
)
def test_bad_arguments_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(np.arange(10.0))


def test_window_tolerates_float_sum_slightly_above_one() -> None:
    offset = 0.33 + 0.56
    assert offset + 0.11 > 1
    assert sliding_window(np.arange(100.0), 0.11, offset=offset).tolist() == list(range(89, 100))
