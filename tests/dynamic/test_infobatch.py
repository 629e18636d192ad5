"""InfoBatch: only below-mean examples are dropped, a fraction r of them, the kept ones reweighted."""

from __future__ import annotations

import pytest
import torch
from reference import naive_below_mean

from datadiet.dynamic import DynamicPruner, infobatch_prune
from datadiet.dynamic.infobatch import infobatch_size
from datadiet.integrations import check_pruning_options
from datadiet.training import DynamicPruningCallback


@pytest.mark.parametrize("r", [0.0, 0.3, 0.5, 0.9])
def test_rule_drops_a_fraction_r_of_the_below_mean_examples(r):
    scores = torch.rand(500, generator=torch.Generator().manual_seed(1)) ** 2
    scores[::17] = float("nan")
    low = set(naive_below_mean(scores.tolist()))
    selection = infobatch_prune(scores, r, torch.Generator().manual_seed(0))
    kept = set(selection.positions.tolist())
    dropped = set(range(500)) - kept
    assert dropped <= low
    assert len(dropped) == len(low) - int((1 - r) * len(low))
    assert len(selection.positions) == infobatch_size(scores, r)
    weights = dict(zip(selection.positions.tolist(), selection.weights.tolist()))
    assert all(weights[i] == pytest.approx(1 / (1 - r)) for i in kept & low)
    assert all(weights[i] == 1.0 for i in kept - low)


def test_nothing_is_dropped_before_any_score():
    selection = infobatch_prune(torch.full((10,), float("nan")), 0.5, torch.Generator())
    assert selection.positions.tolist() == list(range(10)) and torch.equal(selection.weights, torch.ones(10))


def test_pruner_with_batch_losses_and_final_full_phase():
    n, epochs, r = 400, 16, 0.5
    pruner = DynamicPruner(n, policy="infobatch", policy_options={"r": r}, period=1, epochs=epochs)
    assert pruner.schedule.final_full_epochs == 2  # delta 0.125 of 16 epochs
    g = torch.Generator().manual_seed(0)
    difficulty = torch.rand(n, generator=g)
    for epoch in range(epochs):
        expected = pruner.epoch_length(epoch)
        low = set(naive_below_mean(pruner.tracker.latest.tolist()))
        pruner.set_epoch(epoch)
        positions = pruner.epoch_positions()
        assert len(positions) == expected == len(pruner)
        weights = pruner.loss_weights(positions)
        if epoch < 1 or epoch >= epochs - 2:  # nothing scored before epoch 0, and the final delta: all data, weight 1
            assert sorted(positions.tolist()) == list(range(n)) and torch.equal(weights, torch.ones(n))
        else:
            kept_low = set(positions.tolist()) & low
            assert set(range(n)) - set(positions.tolist()) <= low
            assert len(kept_low) == int((1 - r) * len(low))
            assert sorted(weights[weights != 1].tolist()) == [1 / (1 - r)] * len(kept_low)
        losses = difficulty[positions] * (1 + torch.rand(len(positions), generator=g))
        pruner.update(positions, losses)


def test_its_own_schedule_is_the_default_of_the_pruner_and_of_every_callback(blobs):
    pruner = DynamicPruner(len(blobs), policy="infobatch", epochs=8)
    schedule = pruner.schedule
    assert (schedule.period, schedule.warmup_epochs, schedule.final_full_epochs) == (1, 0, 1)
    assert schedule.checkpoints() == list(range(7))
    assert DynamicPruningCallback(pruner, blobs).score_source == "batch"
    assert check_pruning_options(pruner, None, None, "losses") == "batch"  # Lightning, Hugging Face: no score_data
    assert DynamicPruningCallback(pruner, blobs, score_source="pass").score_source == "pass"
    ucb = DynamicPruner(len(blobs), policy="ucb", keep=0.5, class_balanced=False)
    assert (ucb.schedule.period, ucb.schedule.warmup_epochs) == (10, 1)
    assert DynamicPruningCallback(ucb, blobs).score_source == "pass"
    with pytest.raises(ValueError, match="pass score_data="):
        check_pruning_options(ucb, None, None, "losses")
