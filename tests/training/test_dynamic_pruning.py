"""The trainer's dynamic-pruning callback: scoring at checkpoints, batch losses, loss weights, state, epoch lengths,
and real training runs whose progress bar counts the steps they take."""

from __future__ import annotations

import pytest
import torch

import datadiet.training.trainer as trainer
from datadiet.callbacks import BatchResult, Callback
from datadiet.dynamic import DynamicPruner
from datadiet.training import DynamicPruningCallback, TrainConfig, train
from reference import naive_stale_losses


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


def _feed(callback, positions, losses):
    y = callback.data.y[positions]
    callback.on_batch_end(BatchResult(positions, torch.zeros(len(positions), 3), y, losses[positions], 0, 0))


def test_stale_mode_scores_only_the_examples_not_trained_on_since_the_last_checkpoint(blobs, tiny_mlp):
    model, n = tiny_mlp(), len(blobs)
    callback = DynamicPruningCallback(ucb_pruner(blobs), blobs, score_source="stale")
    batch_losses = torch.rand(n) + 5.0  # far from any loss of the model: a mix-up would show
    _feed(callback, callback.on_epoch_start(0, model), batch_losses)  # the warm-up trains on all n
    selected = callback.on_epoch_start(1, model)  # checkpoint: every example has a fresh training loss
    assert callback.scoring_forward == 0 and len(selected) == 24
    assert torch.equal(callback.pruner.tracker.latest, batch_losses)
    _feed(callback, selected, batch_losses)
    _feed(callback, callback.on_epoch_start(2, model), batch_losses)  # same selection: no checkpoint at epoch 2
    callback.on_epoch_start(3, model)  # checkpoint: the 72 examples not trained on are scored
    trained = {int(i): float(batch_losses[i]) for i in selected}
    expected, forwarded = naive_stale_losses(model, blobs.x, blobs.y, trained)
    assert callback.scoring_forward == forwarded == n - 24
    assert torch.allclose(callback.pruner.tracker.latest, torch.tensor(expected), atol=1e-6)


def test_stale_mode_without_warm_up_scores_everything_first(blobs, tiny_mlp):
    model, n = tiny_mlp(), len(blobs)
    callback = DynamicPruningCallback(ucb_pruner(blobs, warmup_epochs=0), blobs, score_source="stale")
    selected = callback.on_epoch_start(0, model)
    expected, forwarded = naive_stale_losses(model, blobs.x, blobs.y, {})
    assert callback.scoring_forward == forwarded == n and len(selected) == 24
    assert torch.allclose(callback.pruner.tracker.latest, torch.tensor(expected), atol=1e-6)


def test_stale_mode_is_refused_under_a_process_group_before_training(blobs, tiny_mlp, monkeypatch):
    import datadiet.dynamic.scoring as scoring

    callback = DynamicPruningCallback(ucb_pruner(blobs), blobs, score_source="stale")
    monkeypatch.setattr(scoring, "is_distributed", lambda: True)  # as inside a group of 2 processes
    with pytest.raises(ValueError, match="score_source='stale' runs in one process"):
        callback.on_epoch_start(0, tiny_mlp())
    assert callback.pruner.epoch == 0 and callback.scoring_forward == 0


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
    with pytest.raises(ValueError, match="valid: pass, batch, stale"):
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


def test_trainer_runs_with_stale_scoring(blobs, tiny_mlp, tmp_path):
    n, epochs = len(blobs), 5
    callback = DynamicPruningCallback(ucb_pruner(blobs, epochs=epochs), blobs, score_source="stale")
    config = TrainConfig(epochs=epochs, batch_size=16, lr=0.05, progress=False)
    result = train(tiny_mlp(), blobs, config, callbacks=[callback], out_dir=tmp_path, device="cpu")
    assert [h["examples"] for h in result.history] == [n, 24, 24, 24, 24]
    assert [h["scoring_forward"] for h in result.history] == [0, 0, 0, n - 24, n - 24]  # after warm-up, 72 stale


def test_epoch_lengths_are_the_pruners(blobs):
    callback = DynamicPruningCallback(ucb_pruner(blobs, epochs=5), blobs)
    assert [callback.epoch_length(e) for e in range(5)] == [len(blobs), 24, 24, 24, 24]


class Bar:
    """Stands in for tqdm: records the totals the trainer sets and the steps it counts."""

    made: list[Bar] = []

    def __init__(self, *, total, initial, **options) -> None:
        self.total, self.initial, self.n, self.totals = total, initial, initial, [total]
        Bar.made.append(self)

    def update(self, steps: int) -> None:
        self.n += steps

    def refresh(self) -> None:
        self.totals.append(self.total)

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        pass


@pytest.fixture
def bars(monkeypatch) -> list[Bar]:
    Bar.made = []
    monkeypatch.setattr(trainer, "tqdm", Bar)
    return Bar.made


def test_the_progress_bar_counts_the_steps_a_pruned_run_takes(blobs, tiny_mlp, bars):
    callback = DynamicPruningCallback(ucb_pruner(blobs, epochs=5), blobs)
    config = TrainConfig(epochs=5, batch_size=16, lr=0.05, progress=False)
    result = train(tiny_mlp(), blobs, config, callbacks=[callback], device="cpu")
    (bar,) = bars
    assert result.metrics["steps"] == bar.n == 6 + 4 * 2  # 96 examples in batches of 16, then 4 epochs of 24
    assert set(bar.totals) == {bar.n}  # a fixed budget is known from the start


def test_the_progress_bar_of_infobatch_ends_at_the_steps_taken(blobs, tiny_mlp, bars):
    pruner = DynamicPruner(len(blobs), policy="infobatch", period=1, epochs=6)
    callback = DynamicPruningCallback(pruner, blobs, score_source="batch")
    config = TrainConfig(epochs=6, batch_size=8, lr=0.05, progress=False)
    result = train(tiny_mlp(), blobs, config, callbacks=[callback], device="cpu")
    (bar,) = bars
    assert bar.totals[-1] == bar.n == result.metrics["steps"] < 6 * len(blobs) // 8
    assert bar.totals[0] > bar.totals[-1]  # estimated from no losses at first, re-estimated epoch by epoch


def test_a_resumed_pruned_run_counts_on_from_its_steps(blobs, tiny_mlp, bars, tmp_path):
    class Crash(Callback):
        def on_epoch_start(self, epoch, model):
            if epoch == 2:
                raise KeyboardInterrupt

    config = TrainConfig(epochs=5, batch_size=16, lr=0.05, progress=False)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_mlp(), blobs, config, callbacks=[DynamicPruningCallback(ucb_pruner(blobs, epochs=5), blobs),
                                                    Crash()], out_dir=tmp_path, device="cpu")
    callback = DynamicPruningCallback(ucb_pruner(blobs, epochs=5), blobs)
    train(tiny_mlp(), blobs, config, callbacks=[callback, Callback()], out_dir=tmp_path, device="cpu")
    resumed = bars[-1]
    assert (resumed.initial, resumed.totals[0], resumed.n) == (8, 14, 14)  # 6 + 2 steps before the crash
