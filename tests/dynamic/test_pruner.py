"""The sampler: epoch sizes, schedule phases, class balance, determinism and construction errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from datadiet.dynamic import PAPER_OPTIONS, DynamicPruner, UCB
from datadiet.dynamic.base import Policy, Selection
from datadiet.selection.budget import class_budgets

N = 103
LABELS = torch.tensor([i % 4 if i < 90 else 3 for i in range(N)])


def feed_and_iterate(pruner: DynamicPruner, epochs: int, seed: int = 0) -> list[list[int]]:
    """Positions yielded per epoch, with batch losses fed back as a training loop would."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for epoch in range(epochs):
        pruner.set_epoch(epoch)
        positions = list(pruner)
        pruner.update(torch.tensor(positions), torch.rand(len(positions), generator=g))
        out.append(positions)
    return out


def test_epoch_sizes_follow_the_schedule():
    pruner = DynamicPruner(N, policy="ucb", keep=0.3, period=3, epochs=12, labels=LABELS, warmup_epochs=2,
                           final_full_epochs=2)
    k = 31  # 0.3 * 103 = 30.9
    expected = [N, N] + [k] * 8 + [N, N]
    assert [pruner.epoch_length(e) for e in range(12)] == expected
    seen = feed_and_iterate(pruner, 12)
    assert [len(p) for p in seen] == expected
    assert all(sorted(p) == list(range(N)) for p in seen[:2] + seen[-2:])
    assert pruner.num_checkpoints == 3  # epochs 2, 5, 8


def test_one_selection_per_period_reshuffled_every_epoch():
    pruner = DynamicPruner(N, policy="uncertainty", keep=0.5, period=3, labels=LABELS)
    seen = feed_and_iterate(pruner, 7)
    assert seen[1] != seen[2] and sorted(seen[1]) == sorted(seen[2]) == sorted(seen[3])
    assert sorted(seen[4]) != sorted(seen[3])
    assert len(set(seen[1])) == len(seen[1])


def test_class_balanced_gives_each_class_its_share():
    pruner = DynamicPruner(N, policy="egreedy", keep=0.2, period=1, labels=LABELS)
    classes, budgets = class_budgets(LABELS.numpy(), 21)
    for positions in feed_and_iterate(pruner, 6)[1:]:
        per_class = torch.bincount(LABELS[torch.tensor(positions)], minlength=4)
        assert per_class.tolist() == budgets.tolist()


def test_paper_options_rank_globally_without_warmup():
    scores = torch.where(LABELS == 3, 5.0, 1.0) + torch.rand(N) * 0.1
    pruner = DynamicPruner(N, policy="uncertainty", keep=0.3, period=1, **PAPER_OPTIONS)
    assert pruner.needs_scores(0)
    pruner.score_all(scores)
    pruner.set_epoch(0)
    assert set(LABELS[pruner.selection].tolist()) == {3}  # the collapse the class-balanced default prevents


@pytest.mark.parametrize("policy", ["uncertainty-ema", "ucb"])
def test_start_from_static_scores_selects_their_top_k_at_epoch_0(policy):
    scores = np.random.default_rng(0).random(N)
    pruner = DynamicPruner(N, policy=policy, keep=0.3, period=2, **PAPER_OPTIONS)
    pruner.start_from(scores)
    top = np.argsort(-scores, kind="stable")[:31]  # variance 0: UCB ranks by the scores alone
    assert sorted(pruner.selection.tolist()) == sorted(top.tolist())
    assert not pruner.needs_scores(0) and not pruner.needs_scores(1) and pruner.needs_scores(2)
    with pytest.raises(ValueError, match="before the first epoch"):
        pruner.start_from(scores)


def test_start_from_after_a_warmup_is_the_prior_of_the_first_pass():
    prior, losses = np.random.default_rng(0).random((2, N))
    pruner = DynamicPruner(N, policy="uncertainty-ema", keep=0.3, period=1, warmup_epochs=1,
                           policy_options={"alpha": 0.5}, class_balanced=False)
    pruner.start_from(prior)
    assert pruner.selection.tolist() == list(range(N)) and pruner.needs_scores(1)
    pruner.score_all(torch.as_tensor(losses, dtype=torch.float32))
    pruner.set_epoch(1)
    ema = 0.5 * losses + 0.5 * prior
    assert sorted(pruner.selection.tolist()) == sorted(np.argsort(-ema, kind="stable")[:31].tolist())


def test_start_from_needs_a_scored_policy_and_n_scores():
    with pytest.raises(ValueError, match="does not rank by scores"):
        DynamicPruner(N, policy="random", keep=0.3, period=1, labels=LABELS).start_from(np.zeros(N))
    with pytest.raises(ValueError, match=f"shape \\({N},\\)"):
        DynamicPruner(N, policy="ucb", keep=0.3, period=1, **PAPER_OPTIONS).start_from(np.zeros(N - 1))


def test_determinism_and_seed_dependence():
    make = lambda seed: DynamicPruner(N, policy="egreedy", keep=0.3, period=2, seed=seed, labels=LABELS)  # noqa: E731
    assert feed_and_iterate(make(3), 6) == feed_and_iterate(make(3), 6)
    assert feed_and_iterate(make(3), 6) != feed_and_iterate(make(4), 6)


def test_needs_scores_only_before_a_new_scored_selection():
    pruner = DynamicPruner(N, policy="ucb", keep=0.3, period=2, labels=LABELS, warmup_epochs=1)
    assert [pruner.needs_scores(e) for e in range(4)] == [False, True, True, True]  # nothing selected yet
    pruner.score_all(torch.rand(N))
    pruner.set_epoch(1)
    assert not pruner.needs_scores(1) and not pruner.needs_scores(2) and pruner.needs_scores(3)
    random = DynamicPruner(N, policy="random", keep=0.3, period=2, labels=LABELS)
    assert not any(random.needs_scores(e) for e in range(4))


def test_works_as_a_dataloader_sampler():
    ds = TensorDataset(torch.arange(N), torch.randn(N, 3), LABELS)
    pruner = DynamicPruner(N, policy="random", keep=0.4, period=1, labels=LABELS)
    loader = DataLoader(ds, sampler=pruner, batch_size=8)
    for epoch in range(3):
        pruner.set_epoch(epoch)
        batches = [i for i, _, _ in loader]
        assert len(loader) == len(batches) == -(-pruner.epoch_length(epoch) // 8)
        assert sum(len(b) for b in batches) == len(pruner)


def test_loss_weights_are_ones_for_fixed_budget_policies():
    pruner = DynamicPruner(N, policy="ucb", keep=0.3, period=1, labels=LABELS)
    feed_and_iterate(pruner, 3)
    assert torch.equal(pruner.loss_weights(torch.arange(5)), torch.ones(5))


def test_set_epoch_never_goes_back():
    pruner = DynamicPruner(N, policy="random", keep=0.3, period=1, labels=LABELS)
    pruner.set_epoch(3)
    with pytest.raises(ValueError, match="current epoch 3"):
        pruner.set_epoch(2)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"keep": 0.0}, r"keep must be in \(0, 1\]"),
        ({"keep": 1.2}, r"keep must be in \(0, 1\]"),
        ({"keep": None}, "needs keep"),
        ({"period": 0}, "period must be at least 1"),
        ({"policy": "greedy"}, "valid: random, uncertainty"),
        ({"policy_options": {"alpha": 2.0}}, r"alpha must be in \(0, 1\]"),
        ({"policy_options": {"c": -1}}, r"c must be in \[0, inf\)"),
        ({"labels": None}, "needs labels"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"warmup_epochs": 3, "epochs": 5, "final_full_epochs": 2}, "no epoch left to prune"),
        ({"final_full_epochs": 2}, "needs the total number of epochs"),
        ({"final_full_fraction": 1.0, "epochs": 5}, r"final_full_fraction must be in \[0, 1\)"),
        ({"final_full_epochs": 1, "final_full_fraction": 0.1, "epochs": 5}, "at most one"),
        ({"labels": torch.zeros(N - 1, dtype=torch.long)}, "labels must be non-negative integers"),
        ({"policy": "infobatch", "keep": None, "epochs": 10, "class_balanced": True}, "no class-balanced variant"),
        ({"policy": "infobatch", "keep": 0.5, "epochs": 10}, "leave keep unset"),
        ({"policy": "infobatch", "keep": None}, "needs epochs"),
        ({"policy": UCB(), "policy_options": {"c": 1.0}}, "set them on the policy object"),
        ({"num_replicas": 2, "rank": 2}, "0 <= rank < num_replicas"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message):
    args = {"policy": "ucb", "keep": 0.3, "period": 2, "labels": LABELS, **kwargs}
    with pytest.raises(ValueError, match=message):
        DynamicPruner(N, **args)


def test_a_policy_that_sets_its_own_size_is_not_class_balanced_by_default():
    # The default class balance (and an explicit one) needs a fixed budget k to split over classes; a policy
    # that sets its own size used to get class_balanced=True by default and fail with a TypeError.
    @dataclass(frozen=True)
    class KeepEven(Policy):
        name: ClassVar[str] = "keep-even"
        needs_scores: ClassVar[bool] = False
        fixed_budget: ClassVar[bool] = False

        def select(self, tracker, k, generator, groups):
            return Selection.unweighted(torch.arange(0, N, 2))

        def expected_size(self, tracker, k):
            return (N + 1) // 2

    pruner = DynamicPruner(N, policy=KeepEven(), period=1, labels=LABELS, warmup_epochs=0)
    assert not pruner.class_balanced
    pruner.set_epoch(0)
    assert sorted(pruner) == list(range(0, N, 2))
    with pytest.raises(ValueError, match="no class-balanced variant"):
        DynamicPruner(N, policy=KeepEven(), period=1, labels=LABELS, class_balanced=True)
