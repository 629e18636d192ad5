"""Properties every model must have: shapes, seeded init, eval determinism, channels_last, torch.func."""

import copy
import math

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from datadiet.models import create_model, list_models

# An input shape and width for each model, small enough for fast tests (test_resnet.py covers 32x32 ResNets).
CASES = {
    "resnet18": ((3, 16, 16), 0.125),
    "resnet34": ((3, 8, 8), 0.125),
    "resnet50": ((3, 8, 8), 0.0625),
    "vgg16": ((3, 32, 32), 0.0625),
    "basic_cnn": ((3, 32, 32), 0.25),
    "small_cnn": ((1, 28, 28), 0.5),
    "cnn1d": ((1, 40), 1.0),
    "mlp": ((1, 28, 28), 0.5),
}
IMAGE_MODELS = [name for name, (shape, _) in CASES.items() if len(shape) == 3]


def build(name: str, num_classes: int = 10, seed: int = 0, in_channels: int | None = None) -> nn.Module:
    shape, width = CASES[name]
    if in_channels is not None:
        shape = (in_channels, *shape[1:])
    torch.manual_seed(seed)
    return create_model(name, num_classes, shape[0], width=width, input_shape=shape)


def inputs(name: str, batch: int, in_channels: int | None = None) -> torch.Tensor:
    shape = CASES[name][0]
    if in_channels is not None:
        shape = (in_channels, *shape[1:])
    return torch.randn(batch, *shape, generator=torch.Generator().manual_seed(1))


def test_cases_cover_every_registered_model():
    assert sorted(CASES) == list_models()


@pytest.mark.parametrize("name", sorted(CASES))
def test_train_step_gives_logits_and_gradients_for_every_parameter(name):
    model = build(name, num_classes=5)
    out = model(inputs(name, 4))
    assert out.shape == (4, 5)
    nn.functional.cross_entropy(out, torch.arange(4) % 5).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_channels_one_works(name):
    model = build(name, in_channels=1).eval()
    assert model(inputs(name, 2, in_channels=1)).shape == (2, 10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_network_and_eval_is_deterministic(name):
    a, b, c = (build(name, seed=seed).state_dict() for seed in (0, 0, 1))
    assert all(torch.equal(value, b[key]) for key, value in a.items())
    assert any(not torch.equal(value, c[key]) for key, value in a.items() if value.is_floating_point())
    model = build(name)
    x = inputs(name, 2)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", sorted(CASES))
def test_initialization_follows_the_documented_rule(name):
    model = build(name)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            assert torch.equal(module.weight, torch.ones_like(module.weight))
            assert torch.equal(module.bias, torch.zeros_like(module.bias))
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            if module.bias is not None:
                assert torch.equal(module.bias, torch.zeros_like(module.bias))
            fan_out = module.out_channels * math.prod(module.kernel_size)
            if module.weight.numel() >= 2000:  # Kaiming normal, fan_out mode, ReLU gain
                assert module.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_lazy_or_in_place_layers(name):
    for module in build(name).modules():
        assert not isinstance(module, nn.modules.lazy.LazyModuleMixin)
        assert not getattr(module, "inplace", False)


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_channels_last_gives_the_same_logits(name):
    model = build(name).eval()
    x = inputs(name, 2)
    fast = copy.deepcopy(model).to(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = model(x)
        got = fast(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_per_example_gradients_match_a_loop_over_examples(name):
    model = build(name).double().eval()  # float64 so that both paths agree to rounding
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = dict(model.named_buffers())
    x, y = inputs(name, 3).double(), torch.tensor([0, 3, 9])

    def loss(p: dict, xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, (p, buffers), (xi[None],))
        return nn.functional.cross_entropy(logits, yi[None])

    batched = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(len(x)):
        model.zero_grad()
        nn.functional.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        for key, p in model.named_parameters():
            torch.testing.assert_close(batched[key][i], p.grad, rtol=1e-9, atol=1e-12)
