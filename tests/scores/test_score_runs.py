"""Scores over independent runs: each row is what one seeded run gives when done by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from datadiet.scores import ForgettingCounter, SCORES, el2n, grand, input_norm, list_scores, score_runs
from datadiet.training import TrainConfig, train

CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.2, progress=False)


def test_registry_names():
    assert list_scores() == sorted(["el2n", "grand", "grand_last_layer", "forgetting", "loss", "margin", "input_norm"])
    assert {m.kind for m in SCORES.values()} == {"model", "training", "data"}
    with pytest.raises(ValueError, match="unknown score 'gradnorm'; valid: el2n, forgetting, grand"):
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
    result = score_runs("el2n", blobs, tiny_mlp, CONFIG, at=1, runs=2, device="cpu", progress=False, batch_size=7)
    assert result.time == "epoch 1" and result.train_config == replace(CONFIG, stop_at=1).to_dict()
    for row, seed in zip(result.runs, result.seeds):
        torch.manual_seed(seed)
        model = train(tiny_mlp(seed), blobs, replace(CONFIG, seed=seed, stop_at=1), device="cpu").model
        np.testing.assert_array_equal(row, el2n(model, blobs))


def test_forgetting_counts_during_the_whole_schedule(blobs, tiny_mlp):
    result = score_runs("forgetting", blobs, tiny_mlp, CONFIG, at=None, runs=2, device="cpu", progress=False)
    assert result.time == "epoch 3"
    for row, seed in zip(result.runs, result.seeds):
        torch.manual_seed(seed)
        counter = ForgettingCounter()
        train(tiny_mlp(seed), blobs, replace(CONFIG, seed=seed), callbacks=[counter], device="cpu")
        np.testing.assert_array_equal(row, counter.compute())


def test_step_time_and_data_scores(blobs, tiny_mlp):
    steps = TrainConfig(steps=10, batch_size=16, progress=False)
    result = score_runs("input_norm", blobs, tiny_mlp, steps, at=4, runs=2, progress=False)
    assert result.time == "step 4"
    np.testing.assert_array_equal(result.runs, np.stack([input_norm(blobs)] * 2))


def test_bad_time_points(blobs, tiny_mlp):
    with pytest.raises(ValueError, match="counted during training"):
        score_runs("forgetting", blobs, tiny_mlp, CONFIG, at=0)
    with pytest.raises(ValueError, match="TrainConfig"):
        score_runs("el2n", blobs, tiny_mlp, at=2)
    with pytest.raises(ValueError, match=r"at must be in \[0, 3\] epochs"):
        score_runs("el2n", blobs, tiny_mlp, CONFIG, at=4)
    with pytest.raises(ValueError, match="runs"):
        score_runs("el2n", blobs, tiny_mlp, CONFIG, at=0, runs=0)
