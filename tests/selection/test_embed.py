"""``embed``: the input of the last Linear (or a named layer) for every example, against a forward pass through the
layers before it, one example at a time; on every kind of data; the user's model left as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import loop_sequential_features
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from datadiet.data.batches import DictBatches
from datadiet.selection import embed


def make_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


def make_data(n: int = 37) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


class Dicts(Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict:
        return {"features": self.x[i], "target": self.y[i]}


class Keyword(nn.Module):
    """A model called as model(features=...), like a Hugging Face model."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.inner(features)


@pytest.mark.parametrize("kind", ["pair", "tensor_dataset", "loader", "dicts"])
def test_embed_is_the_last_linear_input_in_position_order(kind: str) -> None:
    model = make_model()
    x, y = make_data()
    model.train()  # embed must run in evaluation mode (BatchNorm statistics, no dropout) and restore this
    modes = [m.training for m in model.modules()]
    data = {"pair": (x, y), "tensor_dataset": TensorDataset(x, y),
            "loader": DataLoader(TensorDataset(x, y), batch_size=5, shuffle=False),
            "dicts": DictBatches(Dicts(x, y), inputs=["features"], label="target")}[kind]
    net = Keyword(model) if kind == "dicts" else model
    out = embed(net, data, batch_size=6)
    assert out.dtype == np.float32 and out.shape == (37, 16)
    assert np.allclose(out, loop_sequential_features(model, x, 4).numpy(), atol=1e-6)
    assert [m.training for m in model.modules()] == modes
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_a_named_layer_gives_its_input_flattened() -> None:
    model = make_model()
    x, y = make_data()
    assert np.allclose(embed(model, (x, y), layer="0"), x.numpy())
    assert np.allclose(embed(model, (x, y), layer="2"), loop_sequential_features(model, x, 2).numpy(), atol=1e-6)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    images = torch.randn(10, 1, 6, 6)
    out = embed(conv, (images, torch.zeros(10, dtype=torch.long)), layer="1")
    assert out.shape == (10, 32)
    assert np.allclose(out, loop_sequential_features(conv, images, 1).numpy(), atol=1e-6)


def test_hooks_are_removed_and_modes_restored_after_an_error() -> None:
    model = make_model().eval()
    x, y = make_data()
    with pytest.raises(ValueError):
        embed(model, (x[:, :5], y))  # the model rejects the inputs
    assert all(not m._forward_hooks for m in model.modules()) and not model.training


@pytest.mark.parametrize(("make", "layer", "message"), [
    (make_model, "9", r"unknown layer '9'; valid: 0, 1, 2, 3, 4$"),
    (lambda: nn.Sequential(nn.Flatten(), nn.ReLU()), None, "no nn.Linear module .* pass layer= one of: 0, 1"),
])
def test_bad_layers_are_one_line_errors(make, layer, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        embed(make(), make_data(), layer=layer)


def test_a_layer_that_runs_twice_is_refused() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(nn.Linear(8, 3), shared, shared)
    with pytest.raises(ValueError, match="layer '1' ran 2 times in one forward pass"):
        embed(model, make_data())
