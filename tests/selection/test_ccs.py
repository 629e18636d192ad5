"""Coverage-centric selection: hard cut, strata coverage and the budget redistribution of Algorithm 1."""

from __future__ import annotations

import numpy as np
import pytest
from reference import naive_count, naive_largest_remainder, naive_ranked

from datadiet.selection import ccs
from datadiet.selection.ccs import allocate_strata, stratum_of


def hardest(scores: np.ndarray, fraction: float) -> set[int]:
    return set(naive_ranked(scores)[len(scores) - naive_count(fraction, len(scores)):])


def naive_stratum(score: float, low: float, high: float, strata: int) -> int:
    if score == np.inf:
        return strata
    return strata - 1 if score == high else int((score - low) / ((high - low) / strata))


@pytest.mark.parametrize("seed", range(8))
def test_ccs_size_cut_and_per_stratum_budgets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    scores = rng.gamma(1.5, size=n)
    scores[rng.random(n) < 0.03] = np.inf
    keep, beta, strata = [(0.3, 0.1, 10), (0.2, 0.3, 50), (0.5, 0.0, 7), (0.1, 0.5, 4)][seed % 4]
    picked = ccs(scores, keep, beta=beta, strata=strata, seed=seed)
    k = naive_count(keep, n)
    assert picked.dtype == np.int64 and len(picked) == k and np.all(np.diff(picked) > 0)
    assert not set(picked.tolist()) & hardest(scores, beta), "nothing from the pruned hardest fraction"
    remaining = np.array(sorted(set(range(n)) - hardest(scores, beta)))
    finite = scores[remaining][np.isfinite(scores[remaining])]
    bins = np.array([naive_stratum(s, finite.min(), finite.max(), strata) for s in scores[remaining]])
    assert np.array_equal(stratum_of(scores[remaining], strata), bins)
    sizes = np.bincount(bins, minlength=strata + 1)
    chosen = np.bincount([naive_stratum(s, finite.min(), finite.max(), strata) for s in scores[picked]],
                         minlength=strata + 1)
    assert np.array_equal(chosen, allocate_strata(sizes, k))


def test_allocate_strata_follows_algorithm_1() -> None:
    # non-empty bins by size: 2 takes min(2, 32 // 4); then 11, 50, 100 take 30 // 3, 20 // 2, 10 // 1
    assert allocate_strata(np.array([50, 2, 0, 11, 100]), 32).tolist() == [10, 2, 0, 10, 10]
    assert allocate_strata(np.array([50, 2, 0, 11, 100]), 60).tolist() == [23, 2, 0, 11, 24]
    assert allocate_strata(np.array([3, 3, 3]), 9).tolist() == [3, 3, 3]


@pytest.mark.parametrize("seed", range(10))
def test_allocate_strata_is_water_filling(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 40, int(rng.integers(1, 30)))
    budget = int(rng.integers(0, sizes.sum() + 1))
    out = allocate_strata(sizes, budget)
    assert out.sum() == budget and np.all(out <= sizes) and np.all(out >= 0)
    open_bins = out[out < sizes]
    if len(open_bins):
        assert open_bins.max() - open_bins.min() <= 1, "bins not filled get an even share"
        assert np.all(sizes[out == sizes] <= open_bins.max()), "only bins below the share are filled"


def test_ccs_covers_sparse_high_score_region_unlike_keep_highest() -> None:
    scores = np.r_[np.linspace(0, 0.99, 900), np.linspace(9, 10, 100)]
    picked = ccs(scores, 0.1, beta=0.0, strata=10, seed=0)
    per_stratum = np.bincount(stratum_of(scores[picked], 10), minlength=11)[:10]
    assert per_stratum[0] == 50 and per_stratum[-1] == 50, "mass split evenly over the two non-empty bins"


def test_ccs_is_seeded_and_class_balanced() -> None:
    rng = np.random.default_rng(3)
    scores, labels = rng.random(300), rng.integers(0, 3, 300)
    a = ccs(scores, 0.2, beta=0.1, seed=1, labels=labels)
    assert np.array_equal(a, ccs(scores, 0.2, beta=0.1, seed=1, labels=labels))
    assert not np.array_equal(a, ccs(scores, 0.2, beta=0.1, seed=2, labels=labels))
    assert np.bincount(labels[a], minlength=3).tolist() == naive_largest_remainder(np.bincount(labels).tolist(), 60)
    for c in range(3):
        members = np.flatnonzero(labels == c)
        assert not set(a.tolist()) & set(members[list(hardest(scores[members], 0.1))].tolist())


def test_constant_scores_form_one_stratum() -> None:
    assert len(ccs(np.ones(20), 0.5, beta=0.1, strata=5, seed=0)) == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keep": 0.8, "beta": 0.3}, "keep \\+ beta at most 1"),
        ({"keep": 0.5, "beta": -0.1}, "beta must be a fraction"),
        ({"keep": 0.5, "beta": 0.1, "strata": 0}, "strata must be a positive integer"),
        ({"keep": 0.0, "beta": 0.1}, "keep must be a fraction"),
    ],
)
def test_ccs_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ccs(np.arange(10.0), seed=0, **kwargs)


def test_budget_wins_when_rounding_makes_cut_and_budget_overlap() -> None:
    assert ccs(np.arange(10.0), 0.55, beta=0.45, seed=0).tolist() == [0, 1, 2, 3, 4, 5]
