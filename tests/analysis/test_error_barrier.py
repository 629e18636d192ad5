"""Error barrier: interpolation against a per-example loop, BatchNorm recomputation, children's schedules, Fig. 4."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import loop_interpolation_errors, naive_error_barrier
from torch import nn

from datadiet.analysis import (
    DEFAULT_ALPHAS, alpha_grid, continuation_config, error_barrier, error_rate, interpolate_states,
    interpolation_errors, plot_error_barriers, recompute_batchnorm, score_subsets, spawn_barriers, train_child,
)
from datadiet.data import load_splits
from datadiet.models import create_model
from datadiet.scores import el2n
from datadiet.training import TrainConfig, train
from datadiet.training.schedule import lr_factor

FAST = dict(batch_size=16, progress=False)


def bn_mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def trained(model: nn.Module, data, seed: int, epochs: int = 3) -> nn.Module:
    train(model, data, TrainConfig(epochs=epochs, seed=seed, **FAST), device="cpu")
    return model


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


CURVES = {  # name: (errors, alphas, eq. 5's barrier, the endpoints' mean form)
    "rising along the line": ([0.02, 0.10, 0.15, 0.30, 0.40], alpha_grid(5), 0.0, 0.19),
    "symmetric bump": ([0.1, 0.2, 0.3, 0.2, 0.1], alpha_grid(5), 0.2, 0.2),
    "unequal endpoints, uneven alphas": ([0.05, 0.4, 0.3, 0.25], [0.0, 0.2, 0.7, 1.0], 0.31, 0.25),
    "bump on a slope": ([0.1, 0.1, 0.3], [0.0, 0.5, 1.0], 0.0, 0.1),
    "dip below the line": ([0.3, 0.05, 0.1, 0.1], alpha_grid(4), 0.0, 0.1),
    "flat": ([0.2, 0.2, 0.2, 0.2], alpha_grid(4), 0.0, 0.0),
}


@pytest.mark.parametrize("name", CURVES)
def test_error_barrier_is_the_height_above_the_line_between_the_endpoints(name: str) -> None:
    errors, alphas, line, mean = CURVES[name]
    assert error_barrier(errors, alphas) == pytest.approx(naive_error_barrier(errors, alphas), abs=1e-12)
    assert error_barrier(errors, alphas) == pytest.approx(line, abs=1e-12)
    assert error_barrier(errors, alphas, reference="mean") == pytest.approx(mean, abs=1e-12)


@pytest.mark.parametrize(("errors", "alphas", "message"), [
    ([0.1], [0.0], "rise strictly from 0 to 1"),
    ([0.1, 0.2, 0.1], [0.0, 1.0], "2 finite numbers, one per alpha"),
    ([0.1, 0.2, 0.1], [0.0, 0.5, 0.9], "rise strictly from 0 to 1"),
    ([0.1, 0.2, 0.1], [0.1, 0.5, 1.0], "rise strictly from 0 to 1"),
    ([0.1, 0.2, 0.2, 0.1], [0.0, 0.5, 0.5, 1.0], "rise strictly"),
    ([0.1, 0.2, 0.1], [0.0, 1.0, 0.5], "rise strictly"),
    ([0.1, float("nan"), 0.1], [0.0, 0.5, 1.0], "finite"),
])
def test_error_barrier_checks_its_path(errors, alphas, message) -> None:
    with pytest.raises(ValueError, match=message):
        error_barrier(errors, alphas)


def test_error_barrier_names_its_references() -> None:
    with pytest.raises(ValueError, match="line, mean"):
        error_barrier([0.1, 0.2], [0.0, 1.0], reference="max")


def test_score_subsets_with_ties() -> None:
    scores = np.array([5.0, 1.0, 3.0, 1.0, np.inf, 0.0, 3.0])
    subsets = score_subsets(scores, 3, seed=0)
    assert subsets["lowest"].tolist() == [1, 3, 5]
    assert subsets["highest"].tolist() == [0, 4, 6]
    assert len(set(subsets["random"].tolist())) == 3 and np.all(np.diff(subsets["random"]) > 0)
    assert np.array_equal(score_subsets(scores, 3, seed=0)["random"], subsets["random"])
    with pytest.raises(ValueError, match="size"):
        score_subsets(scores, 8, seed=0)


def test_interpolate_states_endpoints_and_integers() -> None:
    a, b = bn_mlp(0).state_dict(), bn_mlp(1).state_dict()
    b["1.num_batches_tracked"] += 5
    assert same_state(interpolate_states(a, b, 0.0), a)
    end = interpolate_states(a, b, 1.0)
    assert all(torch.equal(end[k], b[k]) for k in b if k != "1.num_batches_tracked")
    assert torch.equal(end["1.num_batches_tracked"], a["1.num_batches_tracked"])
    mid = interpolate_states(a, b, 0.25)
    assert torch.allclose(mid["0.weight"], 0.75 * a["0.weight"] + 0.25 * b["0.weight"])
    with pytest.raises(ValueError, match="different entries"):
        interpolate_states(a, {k: v for k, v in b.items() if k != "0.bias"}, 0.5)


def test_matches_loop_reference_without_batchnorm(blobs, tiny_mlp) -> None:
    a, b = trained(tiny_mlp(0), blobs, 0), trained(tiny_mlp(1), blobs, 1)
    alphas = [0.0, 0.3, 0.5, 1.0]
    got = interpolation_errors(tiny_mlp(5), a.state_dict(), b.state_dict(), {"all": blobs}, bn_data=None,
                               alphas=alphas)
    expected = loop_interpolation_errors(tiny_mlp, a.state_dict(), b.state_dict(), blobs.x, blobs.y, alphas)
    assert got["all"].tolist() == expected
    no_bn = interpolation_errors(tiny_mlp(5), a.state_dict(), b.state_dict(), {"all": blobs}, bn_data=blobs,
                                 alphas=alphas)
    assert no_bn["all"].tolist() == expected


def test_barrier_of_a_network_with_itself_is_zero(blobs) -> None:
    net = trained(bn_mlp(), blobs, 0)
    for bn_data in (None, blobs):
        errors = interpolation_errors(net, net.state_dict(), net.state_dict(), {"train": blobs}, bn_data=bn_data,
                                      bn_examples=64)
        assert len(errors["train"]) == 11 and np.ptp(errors["train"]) == 0
        assert error_barrier(errors["train"], DEFAULT_ALPHAS) == 0.0


def test_endpoints_are_the_childrens_own_errors_and_models_untouched(blobs) -> None:
    a, b = trained(bn_mlp(0), blobs, 0), trained(bn_mlp(1), blobs, 1)
    a.train()
    states = copy.deepcopy(a.state_dict()), copy.deepcopy(b.state_dict())
    sets = {"first": blobs.subset(np.arange(40)), "rest": blobs.subset(np.arange(40, 96))}
    kept = interpolation_errors(a, a.state_dict(), b.state_dict(), sets, bn_data=None)
    for name, data in sets.items():
        assert kept[name][0] == error_rate(a, data) and kept[name][-1] == error_rate(b, data)
    recomputed = interpolation_errors(a, a.state_dict(), b.state_dict(), sets, bn_data=blobs, bn_examples=48, seed=3)
    for name, data in sets.items():
        own = [error_rate(recompute_batchnorm(copy.deepcopy(m), blobs, examples=48, seed=3), data) for m in (a, b)]
        assert [recomputed[name][0], recomputed[name][-1]] == own
    assert same_state(a.state_dict(), states[0]) and same_state(b.state_dict(), states[1]) and a.training


def test_recompute_batchnorm_changes_statistics_not_weights(blobs) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.BatchNorm1d(8), nn.Linear(8, 3))
    net[0].running_mean.fill_(5.0)
    weights = {k: v.clone() for k, v in net.named_parameters()}
    recompute_batchnorm(net, blobs, examples=len(blobs), batch_size=32)
    assert all(torch.equal(v, weights[k]) for k, v in net.named_parameters())
    assert torch.allclose(net[0].running_mean, blobs.x.mean(0), atol=1e-6)
    assert net[0].momentum == 0.1 and net.training


def test_independently_initialized_networks_have_a_barrier() -> None:
    """Two narrow MLPs (16 hidden units) on digits: each fits, their average does not."""
    data = load_splits("digits").train
    nets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        nets.append(create_model("mlp", 10, 1, width=0.0625, input_shape=(1, 8, 8)))
        train(nets[-1], data, TrainConfig(epochs=4, seed=seed, batch_size=32, progress=False), device="cpu")
    errors = interpolation_errors(nets[0], nets[0].state_dict(), nets[1].state_dict(), {"train": data},
                                  bn_data=data)["train"]
    assert max(errors[0], errors[-1]) < 0.05
    assert error_barrier(errors, DEFAULT_ALPHAS) > 0.2


@pytest.mark.parametrize(("epochs", "start", "milestones"), [
    (10, 0, (0.3, 0.6, 0.8)), (10, 3, (0.3, 0.6, 0.8)), (10, 4, (0.3, 0.6, 0.8)), (200, 10, (0.3, 0.6, 0.8)),
    (200, 160, (0.3, 0.6, 0.8)), (200, 199, (0.3, 0.6, 0.8)), (7, 2, (0.25, 0.5)), (9, 5, (0.1, 0.55)),
])
def test_children_continue_the_parents_learning_rate(epochs: int, start: int, milestones: tuple) -> None:
    parent = TrainConfig(epochs=epochs, lr_milestones=milestones, seed=0, stop_at=start)
    child = continuation_config(parent, start, seed=7)
    assert child.epochs == epochs - start and child.seed == 7 and child.stop_at is None
    batches = 7
    for e in range(child.epochs):
        for b in range(batches):
            mine = child.lr * lr_factor((e + b / batches) / child.epochs, child.lr_milestones, child.lr_gamma)
            theirs = parent.lr * lr_factor((start + e + b / batches) / epochs, milestones, parent.lr_gamma)
            assert mine == pytest.approx(theirs, rel=1e-12), (e, b)


def test_continuation_needs_epochs() -> None:
    with pytest.raises(ValueError, match="epochs"):
        continuation_config(TrainConfig(steps=100), 1, seed=1)
    with pytest.raises(ValueError, match="start_epoch"):
        continuation_config(TrainConfig(epochs=5), 5, seed=1)


def test_children_differ_by_seed_and_leave_the_model_alone(blobs) -> None:
    net = bn_mlp()
    before = copy.deepcopy(net.state_dict())
    config = TrainConfig(epochs=3, **FAST)
    parent = trained(bn_mlp(), blobs, 0, epochs=1).state_dict()
    one, again, two = (train_child(net, parent, blobs, config, start_epoch=1, seed=s, device="cpu")
                       for s in (1, 1, 2))
    assert same_state(one, again) and not same_state(one, two)
    assert same_state(net.state_dict(), before)


def test_spawn_barriers_end_to_end(blobs) -> None:
    net = bn_mlp()
    before = copy.deepcopy(net.state_dict())
    config = TrainConfig(epochs=3, **FAST)
    test = blobs.subset(np.arange(0, 96, 2))
    result = spawn_barriers(net, blobs, config, [2, 0], score_epoch=1, subset_size=20, bn_examples=64,
                            alphas=(0.0, 0.5, 1.0), test_data=test, device="cpu", progress=False)
    assert same_state(net.state_dict(), before)
    assert result.spawn_epochs == (0, 2) and result.alphas == (0.0, 0.5, 1.0)
    assert set(result.errors) == {"highest", "lowest", "random", "test"}
    assert all(e.shape == (2, 3) for e in result.errors.values())
    assert all(np.all(b >= 0) for b in result.barriers.values())
    for name, errors in result.errors.items():
        assert result.barriers[name].tolist() == pytest.approx([naive_error_barrier(e, (0, 0.5, 1)) for e in errors])
    parent = copy.deepcopy(net)
    train(parent, blobs, TrainConfig(epochs=3, stop_at=1, **FAST), device="cpu")
    expected = score_subsets(el2n(parent, blobs), 20, seed=0)
    assert all(np.array_equal(result.subsets[k], expected[k]) for k in expected)
    assert set(result.to_dict()) >= {"spawn_epochs", "alphas", "errors", "barriers", "subsets"}


def test_spawn_barriers_checks_times_and_alphas_before_training(blobs, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="spawn epochs"):
        spawn_barriers(bn_mlp(), blobs, TrainConfig(epochs=3), [3], score_epoch=1)
    with pytest.raises(ValueError, match="score_epoch"):
        spawn_barriers(bn_mlp(), blobs, TrainConfig(epochs=3), [1], score_epoch=4)
    for alphas in [(0.0, 0.5), (0.5, 0.0, 1.0)]:
        with pytest.raises(ValueError, match="alphas must rise strictly from 0 to 1"):
            spawn_barriers(bn_mlp(), blobs, TrainConfig(epochs=3, **FAST), [1], score_epoch=1, subset_size=20,
                           alphas=alphas, device="cpu", out_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing trained


def test_spawn_barriers_needs_exactly_two_child_seeds(blobs) -> None:
    # Three seeds with two distinct values used to pass the check and fail after the parent's training.
    for seeds in [(1, 1), (1, 1, 2), (1, 2, 3)]:
        with pytest.raises(ValueError, match="two different child seeds"):
            spawn_barriers(bn_mlp(), blobs, TrainConfig(epochs=3, **FAST), [0], score_epoch=1, subset_size=20,
                           child_seeds=seeds, device="cpu", progress=False)


def test_plot_error_barriers(tmp_path: Path) -> None:
    path = plot_error_barriers([0, 1, 2], {"highest": [0.3, 0.1, 0.0], "random": [[0.2, 0.1, 0.0], [0.1, 0.0, 0.0]]},
                               tmp_path / "fig4.png")
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="shape"):
        plot_error_barriers([0, 1], {"bad": [0.1, 0.2, 0.3]}, tmp_path / "bad.png")
