import math

import pytest
import torch
from torch import nn

from datadiet.models import count_parameters, create_model, list_models

ALL_NAMES = ["basic_cnn", "cnn1d", "mlp", "resnet18", "resnet34", "resnet50", "small_cnn", "vgg16"]


def test_list_models_names_every_model_sorted():
    assert list_models() == ALL_NAMES


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model 'resnet19'") as info:
        create_model("resnet19", 10, 3)
    for name in ALL_NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("width", [0.0, -1.0, math.nan, math.inf])
def test_width_must_be_positive_and_finite(width):
    with pytest.raises(ValueError, match="width"):
        create_model("small_cnn", 10, 1, width=width, input_shape=(1, 28, 28))


@pytest.mark.parametrize("num_classes", [1, 0, -3])
def test_num_classes_must_be_at_least_two(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        create_model("resnet18", num_classes, 3)


def test_in_channels_must_be_positive():
    with pytest.raises(ValueError, match="in_channels"):
        create_model("resnet18", 10, 0)


@pytest.mark.parametrize("name", ["mlp", "small_cnn", "basic_cnn", "cnn1d"])
def test_models_with_fully_connected_head_need_input_shape(name):
    with pytest.raises(ValueError, match="needs input_shape"):
        create_model(name, 10, 1)


@pytest.mark.parametrize(
    "name, input_shape",
    [
        ("cnn1d", (1, 28, 28)),
        ("small_cnn", (1, 40)),
        ("basic_cnn", (1, 40)),
        ("resnet18", (1, 40)),
        ("vgg16", (1, 28, 28)),
        ("small_cnn", (1, 3, 3)),
    ],
)
def test_incompatible_input_shape_is_rejected(name, input_shape):
    with pytest.raises(ValueError, match=r"input_shape \("):
        create_model(name, 10, 1, width=0.125, input_shape=input_shape)


@pytest.mark.parametrize("input_shape", [(3, 32, 32), (), (1, 0, 28), (1, 2.5, 28)])
def test_input_shape_must_match_in_channels_and_be_positive_integers(input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        create_model("small_cnn", 10, 1, input_shape=input_shape)


def test_count_parameters_sums_parameter_sizes_but_not_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert count_parameters(model) == (3 * 2 + 2) + (2 + 2)


def test_create_model_returns_plain_modules_with_fresh_seeded_weights():
    torch.manual_seed(0)
    a = create_model("mlp", 10, 1, input_shape=(1, 40))
    torch.manual_seed(0)
    b = create_model("mlp", 10, 1, input_shape=(1, 40))
    torch.manual_seed(1)
    c = create_model("mlp", 10, 1, input_shape=(1, 40))
    assert type(a).__module__.startswith("datadiet.models")
    b_state = b.state_dict()
    assert all(torch.equal(value, b_state[key]) for key, value in a.state_dict().items())
    assert not torch.equal(a.state_dict()["layers.1.weight"], c.state_dict()["layers.1.weight"])
