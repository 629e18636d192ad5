"""Logit kernel against an explicit one-backward-per-row Jacobian, kernel velocity, and the rank sweep."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import loop_logit_kernel
from torch import nn

from datadiet.analysis import (
    StateRecorder, evenly_spaced_ranks, kernel_velocity, logit_kernel, plot_kernel_velocity, rank_windows,
    velocity_sweep,
)
from datadiet.analysis.velocity import epoch_windows
from datadiet.training import TrainConfig, train


def conv_bn_net(seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Module:
    """Conv + BatchNorm (with non-trivial running statistics) + linear, 4 classes, on 1x5x5 inputs."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                        nn.Linear(75, 4)).to(dtype)
    net[1].running_mean.normal_()
    net[1].running_var.uniform_(0.5, 2.0)
    net[1].weight.data.uniform_(0.5, 1.5)
    return net


def inputs(m: int = 6, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(m, 1, 5, 5, generator=torch.Generator().manual_seed(1), dtype=dtype)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def psd(n: int, seed: int) -> torch.Tensor:
    a = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T


def test_velocity_is_zero_for_the_same_kernel_and_any_scaling() -> None:
    k = psd(12, 0)
    assert kernel_velocity(k, k) == 0.0
    for c in (1e-6, 0.3, 7.0, 1e5):
        assert kernel_velocity(k, c * k) == pytest.approx(0.0, abs=1e-12)
        assert kernel_velocity(c * k, k) == pytest.approx(0.0, abs=1e-12)


def test_velocity_values() -> None:
    eye, first = torch.eye(2), torch.diag(torch.tensor([1.0, 0.0]))
    assert kernel_velocity(eye, first) == pytest.approx(1 - 1 / np.sqrt(2))
    assert kernel_velocity(first, torch.diag(torch.tensor([0.0, 1.0]))) == pytest.approx(1.0)
    a, b = psd(8, 1), psd(8, 2)
    expected = 1 - float((a * b).sum()) / float(a.norm() * b.norm())
    assert kernel_velocity(a, b) == pytest.approx(expected, rel=1e-12)
    assert kernel_velocity(a, b) == pytest.approx(kernel_velocity(b, a), rel=1e-12)


def test_velocity_rejects_bad_kernels() -> None:
    with pytest.raises(ValueError, match="same 2-D shape"):
        kernel_velocity(torch.eye(3), torch.eye(4))
    with pytest.raises(ValueError, match="zero kernel"):
        kernel_velocity(torch.zeros(3, 3), torch.eye(3))


@pytest.mark.parametrize(("chunk_examples", "chunk_params"), [(1, 100), (2, 50), (4, 1000), (5, None)])
def test_chunked_kernel_equals_explicit_jacobian(chunk_examples: int, chunk_params: int | None) -> None:
    net, x = conv_bn_net(), inputs()
    net.train()
    before = copy.deepcopy(net.state_dict())
    kernel = logit_kernel(net, x, chunk_examples=chunk_examples, chunk_params=chunk_params)
    assert net.training and all(m.training for m in net.modules())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    reference = loop_logit_kernel(net, x)
    assert kernel.dtype == torch.float64 and kernel.shape == (24, 24)
    assert relative_error(kernel, reference) < 1e-12


def test_float32_kernel_matches_double_reference() -> None:
    net, x = conv_bn_net(), inputs()
    kernel = logit_kernel(copy.deepcopy(net).float(), x.float(), chunk_examples=4, chunk_params=120)
    assert kernel.dtype == torch.float64
    assert relative_error(kernel, loop_logit_kernel(net, x)) < 1e-5


def test_kernel_does_not_depend_on_chunking() -> None:
    net, x = conv_bn_net(3), inputs(7)
    kernels = [logit_kernel(net, x, chunk_examples=c, chunk_params=p) for c, p in [(7, None), (3, 90), (2, 200)]]
    for k in kernels[1:]:
        assert relative_error(k, kernels[0]) < 1e-13


def test_kernel_at_a_checkpoint_without_loading_it() -> None:
    net, x = conv_bn_net(0), inputs()
    other = conv_bn_net(5)
    own = copy.deepcopy(net.state_dict())
    kernel = logit_kernel(net, x, state=other.state_dict(), chunk_params=150)
    assert all(torch.equal(own[k], v) for k, v in net.state_dict().items())
    assert relative_error(kernel, loop_logit_kernel(other, x)) < 1e-12


def test_state_is_checked() -> None:
    net, x = conv_bn_net(), inputs()
    with pytest.raises(ValueError, match="does not have"):
        logit_kernel(net, x, state={"nope.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        logit_kernel(net, x, state={"4.bias": torch.zeros(5)})
    with pytest.raises(ValueError, match="chunk_examples"):
        logit_kernel(net, x, chunk_examples=0)


def test_rank_windows_follow_ascending_scores_with_ties_by_position() -> None:
    scores = np.array([3.0, 1.0, 2.0, 1.0, np.inf, 0.0])
    assert rank_windows(scores, [0, 2, 3], window=3).tolist() == [[5, 1, 3], [3, 2, 0], [2, 0, 4]]
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        rank_windows(scores, [4], window=3)
    with pytest.raises(ValueError, match="integers"):
        rank_windows(scores, [0.5], window=3)
    assert evenly_spaced_ranks(1000, 5, window=100).tolist() == [0, 225, 450, 675, 900]


def test_epoch_windows_rank_each_row_on_its_own() -> None:
    scores = np.array([[3.0, 1.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    assert epoch_windows(scores, [0, 2], window=2).tolist() == [[[3, 1], [2, 0]], [[0, 1], [2, 3]]]
    with pytest.raises(ValueError, match="one ranking per curve"):
        epoch_windows(scores[0], [0], window=2)


def test_sweep_of_a_checkpoint_with_itself_is_zero(blobs, tiny_mlp) -> None:
    net = tiny_mlp()
    state = net.state_dict()
    v = velocity_sweep(net, [state, state], blobs, np.arange(len(blobs))[None], [0, 40], window=10, progress=False)
    assert v.shape == (1, 2) and np.all(v == 0)


@pytest.mark.parametrize("fixed", [False, True])
def test_sweep_matches_explicit_kernels_of_recorded_checkpoints(blobs, tiny_mlp, fixed: bool) -> None:
    """Row t of the scores ranks curve t (kernels at t and t + 1 of the same window); a fixed ranking too."""
    net = tiny_mlp()
    recorder = StateRecorder()
    train(net, blobs, TrainConfig(epochs=2, batch_size=16, progress=False), callbacks=[recorder], device="cpu")
    assert sorted(recorder.states) == [0, 1, 2]
    scores = np.random.default_rng(0).random((1 if fixed else 2, len(blobs))).repeat(2 if fixed else 1, axis=0)
    ranks = [0, 30, 86]
    v = velocity_sweep(tiny_mlp(7), recorder.ordered(), blobs, scores, ranks, window=10, chunk_params=20,
                       progress=False)
    for t in range(2):
        order = np.argsort(scores[t], kind="stable")
        for j, r in enumerate(ranks):
            x = blobs.x[order[r : r + 10]]
            a = loop_logit_kernel(_loaded(tiny_mlp(), recorder.states[t]), x)
            b = loop_logit_kernel(_loaded(tiny_mlp(), recorder.states[t + 1]), x)
            expected = 1 - float((a * b).sum()) / float(a.norm() * b.norm())
            assert v[t, j] == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert np.all(v > 0)


def _loaded(net: nn.Module, state: dict) -> nn.Module:
    net.load_state_dict(state)
    return net


def test_sweep_needs_two_checkpoints_and_matching_scores(blobs, tiny_mlp) -> None:
    net = tiny_mlp()
    with pytest.raises(ValueError, match="two checkpoints"):
        velocity_sweep(net, [net.state_dict()], blobs, np.zeros(len(blobs)), [0], window=10)
    for scores in (np.zeros(len(blobs)), np.zeros((1, 5)), np.zeros((2, len(blobs)))):
        with pytest.raises(ValueError, match=r"scores must be \(checkpoints - 1, N\) = \(1, 96\)"):
            velocity_sweep(net, [net.state_dict()] * 2, blobs, scores, [0], window=2)


def test_recorder_copies_and_restores(tiny_mlp) -> None:
    net = tiny_mlp()
    recorder = StateRecorder([0, 2])
    recorder.on_train_start(net, 10)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    recorder.on_epoch_end(0, net)
    recorder.on_epoch_end(1, net)
    assert sorted(recorder.states) == [0, 2] and recorder.missing() == []
    assert not torch.equal(recorder.states[0]["0.weight"], net[0].weight)
    resumed = StateRecorder([0, 2])
    resumed.load_state_dict(recorder.state_dict())
    resumed.on_train_start(tiny_mlp(9), 10)
    assert torch.equal(resumed.states[0]["0.weight"], recorder.states[0]["0.weight"])
    with pytest.raises(ValueError, match="epochs"):
        StateRecorder([-1])


def test_plot_kernel_velocity(tmp_path: Path) -> None:
    ranks = [0, 100, 200]
    v = np.array([[0.3, 0.2, 0.4], [0.1, 0.05, 0.2]])
    path = plot_kernel_velocity(ranks, {"clean": v, "10% label noise": v / 2}, tmp_path / "fig3.png")
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="shape"):
        plot_kernel_velocity(ranks, {"bad": v[:, :2]}, tmp_path / "bad.png")
