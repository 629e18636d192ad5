"""Policies on static scores (paper 2, App. B, Fig. 15; Table 1's static row) against loop references: they rank
by the given scores alone, whatever training losses the pruner is fed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import naive_count, naive_keep_highest, naive_mean_and_variance_over_runs, naive_static_ucb

from datadiet.dynamic import PAPER_OPTIONS, DynamicPruner, StaticEpsilonGreedy, StaticTopK, StaticUCB
from datadiet.dynamic.policies import make_static_policy

N, EPOCHS, KEEP = 200, 8, 0.3
K = naive_count(KEEP, N)
RUNS = np.random.default_rng(0).uniform(0.0, 1.4, size=(3, N))  # three EL2N-like score runs


def selections(policy, *, losses: bool, seed: int = 0, period: int = 2) -> list[list[int]]:
    """The selection at each checkpoint of a paper-faithful pruner; with ``losses``, random training losses are
    fed to it as scoring passes and batch losses before every epoch."""
    pruner = DynamicPruner(N, policy=policy, keep=KEEP, period=period, seed=seed, epochs=EPOCHS, **PAPER_OPTIONS)
    g = torch.Generator().manual_seed(seed + 100)
    out = []
    for epoch in range(EPOCHS):
        assert not pruner.needs_scores(epoch)  # no scoring pass: the policy uses no training loss
        if losses:
            pruner.score_all(torch.rand(N, generator=g) * 10)
            pruner.update(torch.arange(0, N, 3), torch.rand(len(range(0, N, 3)), generator=g))
        pruner.set_epoch(epoch)
        if epoch % period == 0:
            out.append(sorted(pruner.selection.tolist()))
    return out


@pytest.mark.parametrize("eps", [0.1, 0.25, 0.5])
def test_static_egreedy_keeps_the_top_of_the_mean_scores_and_explores_the_rest(eps):
    means, _ = naive_mean_and_variance_over_runs(RUNS.tolist())
    explore = naive_count(eps, K)
    greedy = set(naive_keep_highest(means, K - explore))
    chosen = selections(StaticEpsilonGreedy(RUNS, eps=eps), losses=False)
    for selection in chosen:
        assert len(selection) == len(set(selection)) == K and greedy <= set(selection)
    assert len({tuple(s) for s in chosen}) == len(chosen)  # the eps k explored are drawn afresh each checkpoint
    assert chosen == selections(StaticEpsilonGreedy(RUNS, eps=eps), losses=True)  # losses change nothing


def test_static_egreedy_on_one_score_vector_and_its_greedy_limit():
    vector = RUNS[0]
    assert selections(StaticEpsilonGreedy(vector, eps=0.2), losses=False) == selections(
        StaticEpsilonGreedy(vector[None, :], eps=0.2), losses=False)
    for selection in selections(StaticEpsilonGreedy(vector, eps=0.0), losses=True):
        assert selection == naive_keep_highest(vector.tolist(), K)


@pytest.mark.parametrize("c", [0.0, 1.0, 25.0])
def test_static_ucb_is_a_fixed_top_k_of_mean_plus_c_variance_over_runs(c):
    expected = naive_static_ucb(RUNS.tolist(), c, K)
    for losses in (False, True):
        assert selections(StaticUCB(RUNS, c=c), losses=losses, seed=3) == [expected] * (EPOCHS // 2)


def test_static_ucb_spread_is_the_population_variance_and_matters():
    means, variances = naive_mean_and_variance_over_runs(RUNS.tolist())
    assert np.allclose(variances, RUNS.var(0, ddof=0)) and not np.allclose(variances, RUNS.var(0, ddof=1))
    assert naive_static_ucb(RUNS.tolist(), 25.0, K) != naive_keep_highest(means, K)
    one_run = selections(StaticUCB(RUNS[0], c=25.0), losses=False)  # one run: no spread, the plain top k
    assert one_run == [naive_keep_highest(RUNS[0].tolist(), K)] * (EPOCHS // 2)


def test_static_top_k_is_the_same_subset_at_every_checkpoint_even_with_ties():
    tied = np.zeros((2, N))
    chosen = selections(StaticTopK(tied), losses=True, period=1)
    assert len(chosen) == EPOCHS and all(s == chosen[0] for s in chosen) and len(chosen[0]) == K
    assert selections(StaticTopK(RUNS), losses=False) == [naive_static_ucb(RUNS.tolist(), 0.0, K)] * (EPOCHS // 2)


def test_static_policies_select_within_classes():
    labels = torch.arange(N) % 4
    pruner = DynamicPruner(N, policy=StaticUCB(RUNS, c=1.0), keep=KEEP, period=1, labels=labels, warmup_epochs=0)
    pruner.set_epoch(0)
    means, variances = naive_mean_and_variance_over_runs(RUNS.tolist())
    priority = [m + v for m, v in zip(means, variances)]
    for c in range(4):
        members = [i for i in range(N) if i % 4 == c]
        top = naive_keep_highest([priority[i] for i in members], K // 4)
        assert sorted(p for p in pruner.selection.tolist() if p % 4 == c) == [members[i] for i in top]


@pytest.mark.parametrize("make, message", [
    (lambda: StaticEpsilonGreedy(np.full(N, np.nan)), "static scores must be finite"),
    (lambda: StaticUCB(np.full((2, N), np.inf)), "static scores must be finite"),
    (lambda: StaticTopK(np.zeros((2, 3, N))), r"shape \(N,\) or \(R, N\)"),
    (lambda: StaticEpsilonGreedy(RUNS, eps=1.5), r"eps must be in \[0, 1\]"),
    (lambda: StaticUCB(RUNS, c=-1.0), r"c must be in \[0, inf\)"),
    (lambda: make_static_policy("static-ucb", RUNS, {"alpha": 0.8}), r"unknown option\(s\) \['alpha'\]"),
    (lambda: make_static_policy("ucb", RUNS), "valid: static-egreedy, static-ucb, static-topk"),
    (lambda: DynamicPruner(N + 1, policy=StaticTopK(RUNS), keep=KEEP, period=1, class_balanced=False),
     "static scores of 200 examples, the training set 201"),
])
def test_bad_static_policies_fail_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()
