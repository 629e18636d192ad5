"""The whole-experiment functions that ``datadiet dynamics`` and the sweep share: a tracked run's kernel velocity
against its run recorded and swept by hand and against a brute-force Fig. 3 (each curve's windows from the EL2N at
its own epoch), the seeding of a parent's barriers, and the plots with bands."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import naive_same_epoch_velocities
from torch import nn

from datadiet.analysis import (
    StateRecorder, TrackedVelocity, alpha_grid, noise_title, plot_error_barriers, plot_kernel_velocity,
    seeded_spawn_barriers, spawn_barriers, tracked_velocity, velocity_sweep,
)
from datadiet.analysis.velocity import epoch_scores, independent_epoch_scores, recorded_states
from datadiet.scores import el2n
from datadiet.training import TrainConfig, train

CONFIG = TrainConfig(epochs=3, batch_size=16, seed=5, progress=False)


RANKS = [0, 30, 86]


def test_each_curves_windows_come_from_the_el2n_at_its_own_epoch(blobs, tiny_mlp) -> None:
    """Fig. 3: "both scores and velocities are computed at the same epoch", against a brute-force reference. The
    ranking moves between epochs, so one fixed ranking (EL2N after the last tracked epoch) picks other windows
    and gives other velocities."""
    result = tracked_velocity(tiny_mlp(3), blobs, CONFIG, track_epochs=2, ranks=RANKS, window=10, device="cpu",
                              progress=False)
    states = recorded_states(tiny_mlp(3), blobs, CONFIG, 2, device="cpu")
    windows, velocity = naive_same_epoch_velocities(tiny_mlp, states, blobs.x, blobs.y, RANKS, 10)
    assert result.windows.tolist() == windows
    np.testing.assert_allclose(result.velocity, velocity, rtol=1e-3, atol=1e-7)
    assert windows[0] != windows[1]  # the ranking changed between the epochs
    fixed = np.tile(epoch_scores(tiny_mlp(), states[-1:], blobs), (2, 1))
    by_one_ranking = velocity_sweep(tiny_mlp(), states, blobs, fixed, RANKS, window=10, progress=False)
    assert not np.allclose(by_one_ranking, result.velocity, rtol=1e-2)


def test_tracked_velocity_is_the_first_epochs_of_the_schedule_recorded_scored_and_swept(blobs, tiny_mlp) -> None:
    model = tiny_mlp(3)
    result = tracked_velocity(model, blobs, CONFIG, track_epochs=2, ranks=RANKS, window=10, device="cpu",
                              progress=False)
    by_hand = tiny_mlp(3)
    recorder = StateRecorder()
    train(by_hand, blobs, replace(CONFIG, stop_at=2), callbacks=[recorder], device="cpu")
    scores = np.stack([el2n(_loaded(tiny_mlp(), recorder.states[t]), blobs) for t in (0, 1)])
    expected = velocity_sweep(tiny_mlp(), recorder.ordered(), blobs, scores, RANKS, window=10, progress=False)
    assert sorted(recorder.states) == [0, 1, 2] and result.velocity.shape == (2, 3)
    np.testing.assert_array_equal(result.velocity, expected)
    assert result.ranks.tolist() == RANKS and result.window == 10 and result.windows.shape == (2, 3, 10)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), by_hand.state_dict().values()))


def _loaded(net: nn.Module, state: dict) -> nn.Module:
    net.load_state_dict(state)
    return net


def test_tracked_velocity_ranks_by_given_scores_per_epoch(blobs, tiny_mlp) -> None:
    ranking = np.random.default_rng(1).random((2, len(blobs)))
    result = tracked_velocity(tiny_mlp(3), blobs, CONFIG, ranking_scores=ranking, track_epochs=2, ranks=RANKS,
                              window=10, device="cpu", progress=False)
    states = recorded_states(tiny_mlp(3), blobs, CONFIG, 2, device="cpu")
    expected = velocity_sweep(tiny_mlp(), states, blobs, ranking, RANKS, window=10, progress=False)
    np.testing.assert_array_equal(result.velocity, expected)
    assert result.windows[1, 0].tolist() == np.argsort(ranking[1], kind="stable")[:10].tolist()


def test_tracked_velocity_defaults_to_the_whole_schedule_and_evenly_spaced_ranks(blobs, tiny_mlp) -> None:
    config = replace(CONFIG, epochs=1)
    result = tracked_velocity(tiny_mlp(), blobs, config, num_ranks=3, window=20, device="cpu", progress=False)
    assert result.velocity.shape == (1, 3) and result.ranks.tolist() == [0, 38, 76]  # N = 96
    assert set(result.to_dict()) == {"ranks", "velocity", "window", "windows", "rows"}


@pytest.mark.parametrize(("config", "options", "message"), [
    (CONFIG, {"track_epochs": 4}, r"track_epochs must be in \[1, 3\]"),
    (CONFIG, {"track_epochs": 0}, "track_epochs"),
    (TrainConfig(steps=10, progress=False), {}, "in epochs"),
    (CONFIG, {"ranks": [90], "window": 10}, "starting ranks"),
    (CONFIG, {"score": "forgetting", "window": 10}, "not computed from one network's weights; valid: el2n"),
    (CONFIG, {"ranking_scores": np.zeros((2, 96)), "window": 10},
     r"ranking_scores must be \(track_epochs, N\) = \(3, 96\)"),
])
def test_tracked_velocity_checks_its_arguments_before_training(blobs, tiny_mlp, tmp_path, config, options,
                                                               message) -> None:
    with pytest.raises(ValueError, match=message):
        tracked_velocity(tiny_mlp(), blobs, config, progress=False, out_dir=tmp_path, **options)
    assert not any(tmp_path.iterdir())


def test_independent_epoch_scores_are_each_runs_scores_at_each_epoch(blobs, tiny_mlp) -> None:
    got = independent_epoch_scores(tiny_mlp, blobs, CONFIG, [7, 8], epochs=2, device="cpu", progress=False)
    assert got.shape == (2, 2, len(blobs))
    for i, seed in enumerate((7, 8)):
        states = recorded_states(tiny_mlp(seed), blobs, replace(CONFIG, seed=seed), 1, device="cpu")
        for t in (0, 1):
            np.testing.assert_array_equal(got[i, t], el2n(_loaded(tiny_mlp(), states[t]), blobs))
    assert not np.array_equal(got[0], got[1])
    for seeds, epochs, message in [([], 1, "seeds"), ([1, 1], 1, "seeds"), ([1], 0, "epochs"), ([1], 4, "epochs")]:
        with pytest.raises(ValueError, match=message):
            independent_epoch_scores(tiny_mlp, blobs, CONFIG, seeds, epochs=epochs, progress=False)


def test_extremes_average_the_lowest_and_highest_tenth_of_the_ranks() -> None:
    velocity = np.arange(10.0).reshape(2, 5)
    windows = np.zeros((2, 5, 10), dtype=np.int64)
    result = TrackedVelocity(np.array([0, 10, 50, 90, 100]), velocity, 10, windows)
    bottom, top = result.extremes()
    np.testing.assert_array_equal(bottom, velocity[:, :2].mean(1))
    np.testing.assert_array_equal(top, velocity[:, 3:].mean(1))
    bottom, top = TrackedVelocity(np.array([0, 40, 80]), velocity[:, :3], 10, windows[:, :3]).extremes()
    np.testing.assert_array_equal(bottom, velocity[:, 0])
    np.testing.assert_array_equal(top, velocity[:, 2])


def test_seeded_barriers_draw_every_seed_from_the_parents(blobs) -> None:
    def net() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))

    config = replace(CONFIG, epochs=2, seed=3)
    options = dict(score_epoch=1, subset_size=20, bn_examples=32, alphas=alpha_grid(3), device="cpu", progress=False)
    seeded = seeded_spawn_barriers(net(), blobs, config, [0, 1], **options)
    explicit = spawn_barriers(net(), blobs, config, [0, 1], child_seeds=(7, 8), subset_seed=3, **options)
    assert seeded.child_seeds == (7, 8) and seeded.to_dict() == explicit.to_dict()


class Crash(Exception):
    """Stands for a process killed during the measurement that follows the training."""


def _crash_on_call(monkeypatch, module: str, name: str, call: int) -> None:
    """Make ``module.name`` raise :class:`Crash` on its ``call``-th call (1-based)."""
    original, calls = getattr(sys.modules[module], name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise Crash
        return original(*args, **kwargs)

    monkeypatch.setattr(sys.modules[module], name, wrapper)


def test_barriers_resume_their_training_from_out_dir(blobs, tmp_path, monkeypatch) -> None:
    def net() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))

    config = replace(CONFIG, epochs=3)
    options = dict(score_epoch=1, subset_size=20, bn_examples=32, alphas=alpha_grid(3), device="cpu", progress=False)
    expected = spawn_barriers(net(), blobs, config, [0, 2], **options)
    with monkeypatch.context() as patch:
        _crash_on_call(patch, "datadiet.analysis.barrier", "interpolation_errors", call=2)
        with pytest.raises(Crash):
            spawn_barriers(net(), blobs, config, [0, 2], out_dir=tmp_path, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child-e0-s1", "child-e0-s2", "child-e2-s1", "child-e2-s2",
                                                          "parent"]
    finished = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint.pt")}
    resumed = spawn_barriers(net(), blobs, config, [0, 2], out_dir=tmp_path, **options)
    assert resumed.to_dict() == expected.to_dict()
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())  # no training repeated


def test_tracked_velocity_resumes_its_training_from_out_dir(blobs, tiny_mlp, tmp_path, monkeypatch) -> None:
    options = dict(track_epochs=2, ranks=[0, 40], window=10, device="cpu", progress=False)
    expected = tracked_velocity(tiny_mlp(3), blobs, CONFIG, **options)
    with monkeypatch.context() as patch:
        _crash_on_call(patch, "datadiet.analysis.velocity", "velocity_sweep", call=1)
        with pytest.raises(Crash):
            tracked_velocity(tiny_mlp(3), blobs, CONFIG, out_dir=tmp_path, **options)
    checkpoint = tmp_path / "checkpoint.pt"
    written = checkpoint.stat().st_mtime_ns
    resumed = tracked_velocity(tiny_mlp(3), blobs, CONFIG, out_dir=tmp_path, **options)
    np.testing.assert_array_equal(resumed.velocity, expected.velocity)
    assert checkpoint.stat().st_mtime_ns == written


def test_alpha_grid_and_noise_titles() -> None:
    assert alpha_grid(5) == (0.0, 0.25, 0.5, 0.75, 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        alpha_grid(1)
    assert noise_title(0.0) == "no label noise" and noise_title(0.1) == "10% label noise"


def test_plots_take_repetitions_as_bands(tmp_path: Path) -> None:
    runs = np.random.default_rng(0).random((3, 2, 4))  # 3 seeds, 2 epochs, 4 ranks
    path = plot_kernel_velocity([0, 10, 20, 30], {"a": runs, "b": runs[0]}, tmp_path / "v.png", title="t")
    assert path.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="shape"):
        plot_kernel_velocity([0, 10], {"a": runs}, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="'a': barriers"):
        plot_error_barriers([0, 1], {"a": np.zeros((2, 3))}, tmp_path / "bad.png")
