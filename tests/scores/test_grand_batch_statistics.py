"""GraNd with BatchNorm on each scoring batch's statistics (``batchnorm="batch"``) against a loop that forwards the
whole batch in training mode once per example and backpropagates that example's loss alone.

Both run the same float64 model, so the tolerance measures the batched backward's own error.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from datadiet.data.dataset import IndexedDataset
from datadiet.scores import ScoreFile, get_score, grand, score_runs
from reference import loop_batch_statistics_grad_norms, loop_grad_norms

RTOL = 1e-6


def conv_net(seed: int = 0) -> nn.Module:
    """Conv2d + BatchNorm2d, a BatchNorm1d between the linear layers: every kind of batch coupling."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4 * 3 * 3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3),
    ).double()


def images(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    brightness = 1 + torch.arange(n, dtype=torch.float64).view(n, 1, 1, 1) / n
    x = torch.randn(n, 1, 6, 6, generator=g, dtype=torch.float64) * brightness
    return x, torch.randint(0, 3, (n,), generator=g)


@pytest.mark.parametrize("n, batch_size", [(20, 7), (12, 12), (10, 4)])
def test_matches_a_loop_over_each_examples_loss_through_its_batch(n, batch_size):
    model, (x, y) = conv_net(), images(n)
    expected = loop_batch_statistics_grad_norms(model, x, y, batch_size)
    scores = grand(model, (x, y), batch_size=batch_size, batchnorm="batch")
    np.testing.assert_allclose(scores, expected, rtol=RTOL)
    assert not np.allclose(scores, loop_grad_norms(copy.deepcopy(model), x, y), rtol=1e-2)  # not the eval-mode score


def test_a_dataloaders_batches_define_the_batches():
    model, (x, y) = conv_net(), images(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=5)
    np.testing.assert_allclose(grand(model, loader, batchnorm="batch"),
                               loop_batch_statistics_grad_norms(model, x, y, 5), rtol=RTOL)


def test_each_score_depends_on_its_batch():
    model, (x, y) = conv_net(), images(12)
    whole, halves = (grand(model, (x, y), batch_size=b, batchnorm="batch") for b in (12, 6))
    assert not np.allclose(whole, halves, rtol=1e-3)


def test_the_model_is_left_as_it_was():
    model, (x, y) = conv_net(), images(10)
    model.train()
    model[1].eval()
    before, modes = copy.deepcopy(model.state_dict()), [m.training for m in model.modules()]
    grand(model, (x, y), batch_size=5, batchnorm="batch")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # running statistics, counts
    assert [m.training for m in model.modules()] == modes
    assert all(p.grad is None for p in model.parameters())


def test_without_batchnorm_it_is_the_plain_score():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    x, y = images(9)
    np.testing.assert_array_equal(grand(model, (x, y), batch_size=4, batchnorm="batch"),
                                  grand(model, (x, y), batch_size=4))


@pytest.mark.parametrize("kwargs, message", [
    ({"batchnorm": "train"}, "valid: running"),
    ({"batchnorm": "batch", "backend": "hooks"}, "backend 'auto' or 'loop'"),
    ({"batchnorm": "batch", "batch_size": 4}, "leaves a batch of one"),  # 9 examples: 4 + 4 + 1
    ({"batchnorm": "batch", "batch_size": 1}, "leaves a batch of one"),
])
def test_bad_options_are_refused_before_any_work(kwargs, message):
    model, (x, y) = conv_net(), images(9)
    with pytest.raises(ValueError, match=message):
        grand(model, (x, y), **kwargs)


def test_score_files_state_the_mode_and_its_batch_size(tmp_path):
    model, (x, y) = conv_net(), images(10)
    data = IndexedDataset(x=x, y=y, index=torch.arange(10), num_classes=3, name="images")
    runs = score_runs("grand", data, lambda seed: copy.deepcopy(model), at=0, runs=1, batch_size=5, batchnorm="batch")
    np.testing.assert_allclose(runs.runs[0], loop_batch_statistics_grad_norms(model, x, y, 5), rtol=RTOL)
    ScoreFile.from_runs(runs, data).save(tmp_path / "s.npz")
    assert ScoreFile.load(tmp_path / "s.npz").mode == ("eval, BatchNorm on the statistics of each batch of 5 "
                                                      "consecutive examples")
    assert score_runs("grand", data, lambda seed: copy.deepcopy(model), at=0, runs=1).mode == "eval"
    assert get_score("forgetting").mode_of({}) == "train" and get_score("el2n").mode_of({}) == "eval"
