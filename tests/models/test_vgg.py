import torch
from torch import nn

from datadiet.models import count_parameters, create_model


def test_vgg16_bn_cifar_layout_and_parameter_count():
    model = create_model("vgg16", 10, 3, input_shape=(3, 32, 32))
    # 13 biased 3x3 convs with BatchNorm and one Linear(512, 10): the usual CIFAR VGG16-BN.
    assert count_parameters(model) == 14_728_266
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 13
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 5
    assert [m.in_features for m in model.modules() if isinstance(m, nn.Linear)] == [512]


def test_vgg16_width_and_one_channel_input():
    torch.manual_seed(0)
    model = create_model("vgg16", 100, 1, width=0.125, input_shape=(1, 32, 32))
    assert model.fc.in_features == 64
    assert count_parameters(model) < 14_728_266 / 30
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 100)
    assert model(torch.randn(2, 1, 64, 64)).shape == (2, 100)
