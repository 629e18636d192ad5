"""The trainer callback: scoring at checkpoints, batch losses, loss weights, state, and a real training run."""

from __future__ import annotations

import pytest
import torch

from datadiet.dynamic import DynamicPruner, DynamicPruningCallback
from datadiet.training import BatchResult, TrainConfig, train


def ucb_pruner(data, **kwargs) -> DynamicPruner:
    return DynamicPruner(len(data), policy="ucb", keep=0.25, period=2, labels=data.y, **kwargs)


def test_pass_mode_scores_at_checkpoints_only(blobs, tiny_mlp):
    model, n = tiny_mlp(), len(blobs)
    callback = DynamicPruningCallback(ucb_pruner(blobs), blobs)
    callback.on_train_start(model, n)
    lengths, forwarded = [], []
    for epoch in range(6):
        positions = callback.on_epoch_start(epoch, model)
        assert positions.dtype == torch.long
        lengths.append(len(positions))
        forwarded.append(callback.scoring_forward)
    assert lengths == [n, 24, 24, 24, 24, 24]
    assert forwarded == [0, n, n, 2 * n, 2 * n, 3 * n]  # checkpoints at epochs 1, 3, 5
    assert callback.loss_weights(torch.arange(4)) is None
    assert not torch.isnan(callback.pruner.tracker.ema).any()


def test_batch_mode_feeds_training_losses(blobs, tiny_mlp):
    model = tiny_mlp()
    callback = DynamicPruningCallback(ucb_pruner(blobs), blobs, score_source="batch")
    positions = callback.on_epoch_start(0, model)
    losses = torch.rand(len(positions))
    callback.on_batch_end(BatchResult(positions, torch.zeros(len(positions), 3), blobs.y[positions], losses, 0, 0))
    assert callback.scoring_forward == 0
    assert torch.equal(callback.pruner.tracker.latest[positions], losses)


def test_infobatch_weights_and_state_round_trip(blobs, tiny_mlp):
    pruner = DynamicPruner(len(blobs), policy="infobatch", period=1, epochs=8)
    callback = DynamicPruningCallback(pruner, blobs, score_source="batch")
    callback.on_epoch_start(0, tiny_mlp())
    callback.pruner.update(torch.arange(len(blobs)), torch.linspace(0, 1, len(blobs)))
    positions = callback.on_epoch_start(1, tiny_mlp())
    weights = callback.loss_weights(positions)
    assert set(weights.tolist()) == {1.0, 2.0}
    restored = DynamicPruningCallback(DynamicPruner(len(blobs), policy="infobatch", period=1, epochs=8), blobs)
    restored.load_state_dict(callback.state_dict())
    assert torch.equal(restored.loss_weights(positions), weights)


def test_bad_arguments(blobs):
    with pytest.raises(ValueError, match="valid: pass, batch"):
        DynamicPruningCallback(ucb_pruner(blobs), blobs, score_source="epoch")
    with pytest.raises(ValueError, match="built for"):
        DynamicPruningCallback(DynamicPruner(5, policy="random", keep=0.5, period=1, class_balanced=False), blobs)


def test_trainer_runs_with_the_callback(blobs, tiny_mlp, tmp_path):
    n, epochs = len(blobs), 5
    callback = DynamicPruningCallback(ucb_pruner(blobs, epochs=epochs), blobs)
    config = TrainConfig(epochs=epochs, batch_size=16, lr=0.05, progress=False)
    result = train(tiny_mlp(), blobs, config, callbacks=[callback], out_dir=tmp_path, device="cpu")
    assert [h["examples"] for h in result.history] == [n, 24, 24, 24, 24]
    assert result.metrics["scoring_forward"] == 2 * n  # checkpoints at epochs 1 and 3
    assert [h["scoring_forward"] for h in result.history] == [0, n, n, 2 * n, 2 * n]  # log.jsonl, epoch by epoch
    assert callback.pruner.num_checkpoints == 2
