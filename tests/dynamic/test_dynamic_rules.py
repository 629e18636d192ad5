"""Pure selection rules against naive sorted-list references."""

from __future__ import annotations

import pytest
import torch
from reference import naive_count, naive_keep_highest

from datadiet.dynamic.rules import epsilon_greedy, random_k, top_k, ucb_priority


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("seed", range(6))
def test_top_k_matches_sorted_list(seed):
    scores = torch.rand(200, generator=gen(seed))
    k = 1 + seed * 30
    assert sorted(top_k(scores, k, gen(seed)).tolist()) == naive_keep_highest(scores.tolist(), k)


def test_top_k_ranks_unscored_first_and_breaks_ties_by_seed():
    scores = torch.tensor([0.5, float("nan"), 0.9, float("nan"), 0.1])
    assert sorted(top_k(scores, 3, gen()).tolist()) == [1, 2, 3]
    ties = torch.zeros(100)
    picks = {tuple(sorted(top_k(ties, 10, gen(s)).tolist())) for s in range(5)}
    assert len(picks) == 5
    assert top_k(ties, 10, gen(3)).tolist() == top_k(ties, 10, gen(3)).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_top_k_with_ties_and_nan_matches_sorted_list(seed):
    g = torch.Generator().manual_seed(seed)
    priority = torch.randint(0, 4, (60,), generator=g).float()
    priority[torch.randperm(60, generator=g)[:5]] = float("nan")
    k = [0, 1, 7, 30, 59, 60][seed]
    picked = top_k(priority, k, gen(seed)).tolist()
    key = torch.nan_to_num(priority, nan=float("inf"))
    assert len(picked) == len(set(picked)) == k
    if k:  # the chosen ones are the k largest: none outside beats any inside
        outside = [i for i in range(60) if i not in picked]
        assert not outside or key[outside].max() <= key[picked].min()


def test_top_k_breaks_boundary_ties_uniformly():
    priority = torch.tensor([5.0, 3.0, 3.0, 3.0, 3.0, 1.0])
    hits = torch.zeros(6)
    for seed in range(400):
        hits[top_k(priority, 3, gen(seed))] += 1
    assert hits[0] == 400 and hits[5] == 0
    assert ((hits[1:5] - 200).abs() < 50).all()  # each of the 4 tied is chosen with probability 1/2, sd 10


def test_random_k_is_a_subset_without_repeats():
    picked = random_k(50, 20, gen())
    assert len(set(picked.tolist())) == 20 and 0 <= int(picked.min()) and int(picked.max()) < 50


def test_epsilon_zero_is_greedy():
    scores = torch.rand(300, generator=gen(1))
    assert epsilon_greedy(scores, 40, 0.0, gen(7)).tolist() == top_k(scores, 40, gen(7)).tolist()


@pytest.mark.parametrize("eps", [0.1, 0.25, 1.0])
def test_epsilon_greedy_splits_the_budget(eps):
    scores = torch.rand(300, generator=gen(2))
    k = 40
    picked = epsilon_greedy(scores, k, eps, gen(3)).tolist()
    explore = naive_count(eps, k)
    greedy = naive_keep_highest(scores.tolist(), k - explore)
    assert len(picked) == len(set(picked)) == k
    assert set(greedy) <= set(picked)
    assert sorted(picked[: k - explore]) == greedy


@pytest.mark.parametrize("eps,k,explore", [(0.25, 10, 3), (0.125, 4, 1), (0.5, 5, 3), (0.3, 5, 2)])
def test_epsilon_greedy_rounds_the_exploration_half_up_like_every_size(eps, k, explore):
    """eps k = 2.5, 0.5 and 2.5 explore 3, 1 and 3 (round-half-even would give 2, 0 and 2)."""
    scores = torch.arange(40.0).tolist()
    greedy = naive_keep_highest(scores, k - explore)
    (next_best,) = set(naive_keep_highest(scores, k - explore + 1)) - set(greedy)
    picks = [epsilon_greedy(torch.tensor(scores), k, eps, gen(seed)).tolist() for seed in range(30)]
    assert naive_count(eps, k) == explore
    assert all(len(set(p)) == k and sorted(p[: k - explore]) == greedy for p in picks)
    assert sum(next_best in p for p in picks) < 30  # one greedy pick more would put it in every selection


def test_ucb_priority_raw_normalized_and_clip():
    ema = torch.tensor([1.0, 2.0, 6.0, float("nan")])
    var = torch.tensor([4.0, 0.0, 2.0, 0.0])
    assert torch.equal(ucb_priority(ema, var, 0.5)[:3], ema[:3] + 0.5 * var[:3])
    assert torch.equal(ucb_priority(ema, var, 0.0)[:3], ema[:3])
    assert torch.isnan(ucb_priority(ema, var, 1.0)[3])
    normalized = ucb_priority(ema, var, 1.0, variance="normalized")[:3] - ema[:3]
    assert torch.allclose(normalized.mean(), ema[:3].mean())
    assert torch.allclose(normalized, var[:3] / 2.0 * 3.0)  # var / mean(var) * mean(ema) over scored examples
    assert torch.equal(ucb_priority(ema, var, 1.0, clip=3.0)[:3], ema[:3] + var[:3].clamp(max=3.0))
    with pytest.raises(ValueError, match="valid: raw, normalized"):
        ucb_priority(ema, var, 1.0, variance="std")
