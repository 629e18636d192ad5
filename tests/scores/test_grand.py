"""GraNd against a loop of single-example backward passes, on every layer type, both norm strategies, any batching.

The fast path runs in float32; the reference runs the same weights in float64, so the tolerance (1e-4 relative, for
every example) measures the fast path's own error rather than the reference's.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from datadiet.models import create_model
from datadiet.scores import grand, grand_last_layer
from datadiet.scores import layer_norms
from reference import loop_grad_norms

RTOL = 1e-4


class ResidualNet(nn.Module):
    """Conv2d with and without bias, BatchNorm2d, a residual connection, in-place ReLUs, a grouped strided conv."""

    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        self.fc = nn.Linear(16 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)), inplace=True)
        h = F.relu(self.bn2(self.conv2(h)) + h, inplace=True)
        return self.fc(F.relu(self.conv3(h), inplace=True).flatten(1))


class Conv1dNet(nn.Module):
    """Conv1d with "same" + reflect padding, circular padding, dilation, stride, groups, "valid"; BatchNorm1d."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(2, 6, 5, padding="same", padding_mode="reflect"), nn.BatchNorm1d(6), nn.ReLU(),
            nn.Conv1d(6, 8, 3, stride=2, dilation=2, padding=2, padding_mode="circular", groups=2), nn.ReLU(),
            nn.Conv1d(8, 8, 3, padding="valid"), nn.ReLU(),
        )
        self.fc = nn.Linear(8 * 8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


class SequenceNet(nn.Module):
    """Linear layers on (B, T, D) sequences, one of them applied twice (shared weights), and BatchNorm1d on (B, C)."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.embed, self.mix = nn.Linear(4, 12), nn.Linear(12, 12)
        self.bn, self.head = nn.BatchNorm1d(12), nn.Linear(12, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.mix(torch.tanh(self.mix(torch.tanh(self.embed(x))))))
        return self.head(self.bn(h.mean(1)))


def _randomize_batch_norm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm trained-looking statistics and affine parameters."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)
    return model


def _reference(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    return np.array(loop_grad_norms(copy.deepcopy(model).double(), x.double(), y))


def _assert_close(fast: np.ndarray, ref: np.ndarray) -> None:
    assert fast.dtype == np.float64 and fast.shape == ref.shape
    np.testing.assert_array_less(np.abs(fast / ref - 1), RTOL)


def _data(shape: tuple[int, ...], n: int, num_classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=g), torch.randint(0, num_classes, (n,), generator=g)


@pytest.fixture(params=["flops", "ghost", "materialize"])
def strategy(request, monkeypatch):
    """Let the FLOP estimate choose, or force the ghost norm / the materialized gradients in every layer."""
    if request.param != "flops":
        forced = request.param == "ghost"
        monkeypatch.setattr(layer_norms, "_ghost_is_cheaper", lambda *_: forced)
    return request.param


@pytest.mark.parametrize("batch_size", [1, 7, 16, 64])
def test_residual_conv_net_matches_loop(strategy, batch_size):
    torch.manual_seed(0)
    model = _randomize_batch_norm(ResidualNet())
    x, y = _data((3, 8, 8), 23, 5)
    _assert_close(grand(model, (x, y), batch_size=batch_size), _reference(model, x, y))


def test_conv1d_net_matches_loop(strategy):
    torch.manual_seed(1)
    model = _randomize_batch_norm(Conv1dNet())
    x, y = _data((2, 20), 19, 4)
    _assert_close(grand(model, (x, y), batch_size=8), _reference(model, x, y))


def test_sequences_and_shared_weights_match_loop(strategy):
    torch.manual_seed(2)
    model = _randomize_batch_norm(SequenceNet())
    x, y = _data((5, 4), 17, 3)
    _assert_close(grand(model, (x, y), batch_size=6), _reference(model, x, y))


def test_frozen_parameters_are_left_out():
    torch.manual_seed(3)
    model = _randomize_batch_norm(ResidualNet())
    model.conv2.weight.requires_grad_(False)
    model.bn1.bias.requires_grad_(False)
    x, y = _data((3, 8, 8), 9, 5)
    ref = _reference(model, x, y)
    _assert_close(grand(model, (x, y)), ref)
    _assert_close(grand(model, (x, y), backend="func"), ref)


@pytest.mark.parametrize(
    ("name", "input_shape", "kwargs"),
    [
        ("small_cnn", (1, 28, 28), {}),
        ("basic_cnn", (3, 16, 16), {}),
        ("cnn1d", (1, 40), {}),
        ("mlp", (1, 8, 8), {"width": 0.25}),
        ("resnet18", (3, 32, 32), {"width": 0.125}),
    ],
)
def test_registry_models_match_loop(name, input_shape, kwargs):
    torch.manual_seed(4)
    model = _randomize_batch_norm(create_model(name, 10, input_shape[0], input_shape=input_shape, **kwargs))
    x, y = _data(input_shape, 6, 10)
    _assert_close(grand(model, (x, y), batch_size=4), _reference(model, x, y))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg16"])
def test_large_registry_models_match_loop(name):
    torch.manual_seed(5)
    model = _randomize_batch_norm(create_model(name, 10, 3, width=0.25))
    x, y = _data((3, 32, 32), 10, 10)
    _assert_close(grand(model, (x, y), batch_size=4), _reference(model, x, y))


def test_float64_model_is_exact():
    torch.manual_seed(6)
    model = _randomize_batch_norm(ResidualNet()).double()
    x, y = _data((3, 8, 8), 11, 5)
    fast = grand(model, (x.double(), y), batch_size=4)
    np.testing.assert_allclose(fast, np.array(loop_grad_norms(model, x.double(), y)), rtol=1e-12)


def test_func_backend_matches_loop():
    torch.manual_seed(7)
    model = _randomize_batch_norm(ResidualNet())
    x, y = _data((3, 8, 8), 10, 5)
    _assert_close(grand(model, (x, y), batch_size=4, backend="func"), _reference(model, x, y))


class LayerNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.norm, self.fc2 = nn.Linear(6, 10), nn.LayerNorm(10), nn.Linear(10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


class FunctionalUse(nn.Module):
    """Calls its Linear's parameters through F.linear: forward hooks on the Linear never fire."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 10), nn.Linear(10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(torch.relu(self.fc1(x)), self.fc2.weight, self.fc2.bias)


class TiedWeights(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(6, 6), nn.Linear(6, 6), nn.Linear(6, 3)
        self.fc2.weight = self.fc1.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class SequenceFirst(nn.Module):
    """A Linear applied to (T, B, D): the batch is not on its first axis."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(2, 4), nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x.reshape(len(x), 3, 2).transpose(0, 1))).mean(0))


@pytest.mark.parametrize(
    ("model_class", "reason"),
    [(LayerNormNet, "LayerNorm"), (FunctionalUse, "not called"), (TiedWeights, "shares"), (SequenceFirst, "axis")],
)
def test_unsupported_models_fall_back_to_torch_func(model_class, reason):
    torch.manual_seed(8)
    model = model_class()
    x, y = _data((6,), 12, 3)
    with pytest.warns(UserWarning, match=reason):
        fast = grand(model, (x, y), batch_size=5)
    _assert_close(fast, _reference(model, x, y))
    with pytest.raises(ValueError, match=reason):
        grand(model, (x, y), backend="hooks")


def test_batch_statistics_batch_norm_is_rejected():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, track_running_stats=False), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="track_running_stats"):
        grand(model, _data((4,), 5, 2))


def test_bad_arguments():
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="backend"):
        grand(model, _data((4,), 5, 2), backend="fast")
    with pytest.raises(ValueError, match="batch_size"):
        grand(model, _data((4,), 5, 2), batch_size=0)
    with pytest.raises(ValueError, match="trainable"):
        grand(nn.Linear(4, 2).requires_grad_(False), _data((4,), 5, 2))
    assert grand(model, _data((4,), 0, 2)).shape == (0,)


def _snapshot(model: nn.Module) -> dict:
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grad": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "hooks": [len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()],
    }


@pytest.mark.parametrize("score", [grand, grand_last_layer])
@pytest.mark.parametrize("backend", ["hooks", "func"])
def test_model_is_left_unchanged(score, backend):
    torch.manual_seed(9)
    model = _randomize_batch_norm(ResidualNet())
    model.train()
    model.bn2.eval()
    model.conv1.bias.requires_grad_(False)
    model.fc.weight.grad = torch.ones_like(model.fc.weight)
    before = _snapshot(model)
    kwargs = {"backend": backend} if score is grand else {}
    score(model, _data((3, 8, 8), 10, 5), batch_size=4, **kwargs)
    after = _snapshot(model)
    assert before["training"] == after["training"]
    assert before["requires_grad"] == after["requires_grad"]
    assert after["hooks"] == [0] * len(after["hooks"])
    for k in before["state"]:
        assert torch.equal(before["state"][k], after["state"][k]), k
    for a, b in zip(before["grad"], after["grad"]):
        assert (a is None and b is None) or torch.equal(a, b)


def test_last_layer_matches_loop_over_last_layer_parameters():
    torch.manual_seed(10)
    model = _randomize_batch_norm(ResidualNet())
    x, y = _data((3, 8, 8), 13, 5)
    frozen_body = copy.deepcopy(model)
    for name, p in frozen_body.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    _assert_close(grand_last_layer(model, (x, y), batch_size=5), _reference(frozen_body, x, y))
    assert np.all(grand_last_layer(model, (x, y)) < grand(model, (x, y)))


def test_last_layer_needs_a_final_linear():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    with pytest.raises(ValueError, match="nn.Linear"):
        grand_last_layer(model, _data((4,), 5, 3))
