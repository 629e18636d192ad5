"""Scores over independent runs: each row is what one seeded run gives when done by hand, trained by our trainer
or by a plain loop of the user's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from datadiet.callbacks import AccumulatorCallback, BatchResult
from datadiet.scores import ForgettingCounter, SCORES, el2n, feed_forgetting, grand, input_norm, list_scores, score_runs
from datadiet.training import TrainConfig, train, trainer_fn

CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.2, progress=False)


def ours(data, config=CONFIG):
    return trainer_fn(data, config, device="cpu")


def test_registry_names():
    assert list_scores() == sorted([
        "el2n", "grand", "grand_last_layer", "forgetting", "loss", "margin", "input_norm", "aum",
        "data_maps_confidence", "data_maps_variability", "data_maps_correctness", "el2n_train", "dyn_unc", "dual",
        "tdds", "entropy", "least_confidence",
    ])
    assert {m.kind for m in SCORES.values()} == {"model", "training", "data"}
    with pytest.raises(ValueError, match="unknown score 'gradnorm'; valid: aum, data_maps_confidence"):
        score_runs("gradnorm", None, None, at=0)


def test_at_initialization_each_run_is_a_fresh_seeded_model(blobs, tiny_mlp):
    result = score_runs("grand", blobs, tiny_mlp, at=0, runs=3, seed0=5, device="cpu", progress=False)
    assert result.runs.shape == (3, len(blobs)) and result.seeds == (5, 6, 7)
    assert result.time == "init" and result.train_config is None
    for row, seed in zip(result.runs, result.seeds):
        torch.manual_seed(seed)
        np.testing.assert_array_equal(row, grand(tiny_mlp(seed), blobs))
    np.testing.assert_array_equal(result.mean, result.runs.mean(0))
    assert not np.allclose(result.runs[0], result.runs[1])


def test_at_epoch_t_runs_are_the_full_schedule_stopped_at_t(blobs, tiny_mlp):
    result = score_runs("el2n", blobs, tiny_mlp, ours(blobs), at=1, runs=2, device="cpu", progress=False,
                        batch_size=7)
    assert result.time == "epoch 1" and result.train_config == replace(CONFIG, stop_at=1).to_dict()
    for row, seed in zip(result.runs, result.seeds):
        torch.manual_seed(seed)
        model = train(tiny_mlp(seed), blobs, replace(CONFIG, seed=seed, stop_at=1), device="cpu").model
        np.testing.assert_array_equal(row, el2n(model, blobs))


def test_forgetting_counts_during_the_whole_schedule(blobs, tiny_mlp):
    result = score_runs("forgetting", blobs, tiny_mlp, ours(blobs), at=None, runs=2, device="cpu", progress=False)
    assert result.time == "epoch 3"
    for row, seed in zip(result.runs, result.seeds):
        torch.manual_seed(seed)
        fed = AccumulatorCallback(ForgettingCounter(len(blobs)), feed_forgetting)
        train(tiny_mlp(seed), blobs, replace(CONFIG, seed=seed), callbacks=[fed], device="cpu")
        np.testing.assert_array_equal(row, fed.accumulator.compute())


def plain_sgd(data, batch_size: int = 16):
    """A user's own loop: SGD in one seeded order for ``stop_at`` epochs, telling the listeners every batch."""
    presented = []

    def train_fn(model, seed, stop_at, listeners):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
        batches = [order[lo:lo + batch_size] for lo in range(0, len(data), batch_size)]
        for step, positions in enumerate(batches * stop_at):
            logits = model(data.x[positions])
            losses = F.cross_entropy(logits, data.y[positions], reduction="none")
            optimizer.zero_grad()
            losses.mean().backward()
            optimizer.step()
            batch = BatchResult(positions, logits.detach(), data.y[positions], losses.detach(),
                                step // len(batches), step)
            presented.append((positions, batch.logits.argmax(1) == batch.labels))
            for listener in listeners:
                listener.on_batch_end(batch)

    return train_fn, presented


def test_a_plain_training_function_of_the_users(blobs, tiny_mlp):
    train_fn, presented = plain_sgd(blobs)
    result = score_runs("forgetting", blobs, tiny_mlp, train_fn, at=2, runs=1, seed0=3, progress=False)
    assert result.time == "epoch 2" and result.train_config is None
    counter = ForgettingCounter(len(blobs))
    for positions, correct in presented:
        counter.update(positions, correct)
    np.testing.assert_array_equal(result.runs[0], counter.compute())
    train_fn.time_unit, train_fn.budget = "step", 40  # optional attributes: the unit and the end of the schedule
    assert score_runs("input_norm", blobs, tiny_mlp, train_fn, at=None, runs=1, progress=False).time == "step 40"


def test_step_time_and_data_scores(blobs, tiny_mlp):
    steps = TrainConfig(steps=10, batch_size=16, progress=False)
    result = score_runs("input_norm", blobs, tiny_mlp, ours(blobs, steps), at=4, runs=2, progress=False)
    assert result.time == "step 4"
    np.testing.assert_array_equal(result.runs, np.stack([input_norm(blobs)] * 2))


def test_bad_time_points(blobs, tiny_mlp):
    with pytest.raises(ValueError, match="counted during training"):
        score_runs("forgetting", blobs, tiny_mlp, ours(blobs), at=0)
    with pytest.raises(ValueError, match="need a train_fn"):
        score_runs("el2n", blobs, tiny_mlp, at=2)
    with pytest.raises(ValueError, match=r"at must be in \[0, 3\] epochs"):
        score_runs("el2n", blobs, tiny_mlp, ours(blobs), at=4)
    with pytest.raises(ValueError, match="needs train_fn.budget"):
        score_runs("el2n", blobs, tiny_mlp, plain_sgd(blobs)[0], at=None)
    with pytest.raises(ValueError, match="runs"):
        score_runs("el2n", blobs, tiny_mlp, ours(blobs), at=0, runs=0)
