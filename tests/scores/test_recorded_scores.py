"""Every training-dynamics score from one recorded run of datadiet's trainer, through the score registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from datadiet.callbacks import AccumulatorCallback
from datadiet.scores import SCORES, score_runs
from datadiet.scores.dynamics import forgetting_from
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting
from datadiet.scores.recording import TrainingDynamics, feed_dynamics
from datadiet.training import TrainConfig, train, trainer_fn
from synthetic import make_blobs

RECORDED = sorted(name for name, m in SCORES.items() if m.derive is not None)
CONFIG = TrainConfig(epochs=10, batch_size=16, lr=0.05, progress=False)


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))


def test_one_run_gives_every_dynamics_score_and_forgetting_equals_the_counter():
    data = make_blobs(n=90, seed=1)
    counter = ForgettingCounter(len(data))
    recorder = TrainingDynamics(len(data), keep_probabilities=True)
    listeners = [AccumulatorCallback(counter, feed_forgetting), AccumulatorCallback(recorder, feed_dynamics)]
    train(_mlp(), data, CONFIG, callbacks=listeners, device="cpu")
    recording = recorder.compute()
    assert recording.num_epochs == 10
    np.testing.assert_array_equal(forgetting_from(recording), counter.compute())
    assert {"aum", "data_maps_confidence", "dual", "dyn_unc", "entropy", "tdds"} <= set(RECORDED)
    for name in RECORDED:
        scores = SCORES[name].scores(recording)
        assert scores.shape == (len(data),) and np.isfinite(scores).all(), name


@pytest.mark.parametrize(("name", "options"), [("aum", {}), ("dyn_unc", {"window": 5}), ("tdds", {"window": 5})])
def test_score_runs_derives_a_recorded_score_from_each_run(name, options):
    data = make_blobs(n=60, seed=2)
    fn = trainer_fn(data, CONFIG, device="cpu")
    result = score_runs(name, data, _mlp, fn, at=10, runs=2, progress=False, **options)
    recorder = TrainingDynamics(len(data), keep_probabilities=True)
    model = _mlp(1)
    fn(model, 1, 10, [AccumulatorCallback(recorder, feed_dynamics)])
    np.testing.assert_allclose(result.runs[1], SCORES[name].scores(recorder.compute(), **options))
    assert result.time == "epoch 10"


def test_a_recording_too_short_for_the_window_is_refused_before_training():
    data = make_blobs(n=30)
    built = []
    with pytest.raises(ValueError, match="dyn_unc needs a recording of at least 12 epochs, the runs stop at epoch 5"):
        score_runs("dyn_unc", data, lambda seed: built.append(seed) or _mlp(seed), trainer_fn(data, CONFIG),
                   at=5, runs=1, progress=False, window=12)
    assert built == []


@pytest.mark.parametrize(("name", "option", "valid"), [("aum", "window", "epochs"), ("el2n", "window", "batch_size"),
                                                       ("forgetting", "window", "none")])
def test_options_a_score_does_not_take_are_named(name, option, valid):
    data = make_blobs(n=30)
    with pytest.raises(ValueError, match=f"score '{name}' takes no option {option}; its options: .*{valid}"):
        score_runs(name, data, _mlp, trainer_fn(data, CONFIG), at=2, runs=1, progress=False, **{option: 3})


def test_a_shorter_window_makes_a_shorter_run_enough():
    data = make_blobs(n=30)
    result = score_runs("dyn_unc", data, _mlp, trainer_fn(data, CONFIG), at=3, runs=1, progress=False, window=3)
    assert result.runs.shape == (1, 30) and np.isfinite(result.runs).all()
