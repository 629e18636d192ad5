import functools

import pytest
import torch
from torch import nn

from datadiet.models import count_parameters, create_model

# The standard low-resolution (CIFAR) ResNet v1 counts, 10 classes on 3x32x32.
STANDARD_COUNTS = {"resnet18": 11_173_962, "resnet34": 21_282_122, "resnet50": 23_520_842}


@functools.cache
def full_width_count(name: str) -> int:
    return count_parameters(create_model(name, 10, 3, input_shape=(3, 32, 32)))


@pytest.mark.parametrize("name, expected", sorted(STANDARD_COUNTS.items()))
def test_parameter_count_at_width_one_is_the_standard_cifar_count(name, expected):
    assert full_width_count(name) == expected


@pytest.mark.parametrize("name", sorted(STANDARD_COUNTS))
def test_width_multiplier_shrinks_the_network(name):
    half = count_parameters(create_model(name, 10, 3, width=0.5))
    assert 0.2 * full_width_count(name) < half < 0.3 * full_width_count(name)  # conv weights shrink about 4x


def test_stem_is_one_stride_one_3x3_conv_without_max_pool():
    model = create_model("resnet18", 10, 3, width=0.25)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (3, 3) and convs[0].stride == (1, 1)
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in model.modules())
    assert len(convs) == 1 + 16 + 3  # stem, two per BasicBlock, three projection shortcuts


def test_channels_scale_with_width_rounded_and_at_least_one():
    model = create_model("resnet18", 10, 3, width=0.01)
    assert model.stem[0].out_channels == 1
    assert model.fc.in_features == 5  # round(512 * 0.01)


@pytest.mark.parametrize("name", sorted(STANDARD_COUNTS))
@pytest.mark.parametrize("input_shape", [(3, 32, 32), (1, 28, 28), (1, 8, 8)])
def test_forward_shape_on_small_and_one_channel_inputs(name, input_shape):
    torch.manual_seed(0)
    model = create_model(name, 7, input_shape[0], width=0.0625, input_shape=input_shape)
    out = model(torch.randn(2, *input_shape))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


def test_bottleneck_expands_channels_four_times():
    model = create_model("resnet50", 10, 3, width=0.25)
    assert model.fc.in_features == 4 * 128
