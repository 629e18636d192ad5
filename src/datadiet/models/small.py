"""Small networks that train in minutes on a CPU, and paper 2's proxy network.

- ``basic_cnn``: paper 2's small proxy ("2 convolutional + 2 fully connected layers"; the paper gives no more
  detail). Ours: two [5x5 convolution (with bias), ReLU, 2x2 max-pool] blocks of 32 and 64 channels, then fully
  connected 128 + ReLU and fully connected K. No BatchNorm.
- ``small_cnn``: for 28x28 grayscale images. Two [3x3 convolution, BatchNorm, ReLU, 2x2 max-pool] blocks of 32
  and 64 channels, then fully connected 128 + BatchNorm + ReLU and fully connected K (421,866 parameters on
  1x28x28, K = 10). The BatchNorm on the hidden layer keeps the papers' SGD recipe (lr 0.1, Nesterov) stable:
  without it one epoch on Fashion-MNIST ended between 83% and 87% test accuracy depending on the seed, with it 90%.
- ``cnn1d``: for MNIST-1D ``(N, 1, 40)``. Three stride-2 Conv1d layers of 32 channels with ReLU, then one fully
  connected layer.
- ``mlp``: flatten, two hidden layers of 256 units with ReLU, fully connected K.

``width`` scales every channel count and hidden size (rounded, at least 1). The first fully connected layer is
sized from ``input_shape`` (per example, without batch), which these models require. Convolutions use "same"
padding, so the 2-D networks accept any ``H, W >= 4``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from datadiet.models.common import conv_output_size, init_weights, scale_width, spatial_shape

__all__ = ["CNN1d", "ConvNet", "MLP", "basic_cnn", "cnn1d", "mlp", "small_cnn"]


class ConvNet(nn.Module):
    """Two [conv, optional BatchNorm, ReLU, 2x2 max-pool] blocks + two fully connected layers (the hidden one
    batch-normalized too when ``batch_norm``).

    ``(N, in_channels, H, W) -> (N, num_classes)`` logits; ``spatial`` is ``(H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        spatial: tuple[int, int],
        channels: tuple[int, int],
        hidden: int,
        kernel: int,
        batch_norm: bool,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = in_channels
        for ch in channels:
            layers.append(nn.Conv2d(in_ch, ch, kernel, padding=kernel // 2, bias=not batch_norm))
            layers += [nn.BatchNorm2d(ch)] if batch_norm else []
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            in_ch = ch
        self.features = nn.Sequential(*layers)
        flat = in_ch * math.prod(s // 2 ** len(channels) for s in spatial)
        norm = [nn.BatchNorm1d(hidden)] if batch_norm else []
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, hidden, bias=not batch_norm), *norm, nn.ReLU(), nn.Linear(hidden, num_classes)
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CNN1d(nn.Module):
    """Stride-2 Conv1d + ReLU layers, then one fully connected layer: ``(N, C, L) -> (N, num_classes)``."""

    LAYERS = ((5, 2, 2), (3, 2, 1), (3, 2, 1))  # (kernel, stride, padding) of each convolution

    def __init__(self, in_channels: int, num_classes: int, length: int, channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = in_channels
        for kernel, stride, padding in self.LAYERS:
            layers += [nn.Conv1d(in_ch, channels, kernel, stride, padding), nn.ReLU()]
            in_ch = channels
            length = conv_output_size(length, kernel, stride, padding)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels * length, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.features(x), 1))


class MLP(nn.Module):
    """Flatten, hidden layers with ReLU, fully connected output: ``(N, *input_shape) -> (N, num_classes)``."""

    def __init__(self, in_features: int, num_classes: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        for h in hidden:
            layers += [nn.Linear(in_features, h), nn.ReLU()]
            in_features = h
        layers.append(nn.Linear(in_features, num_classes))
        self.layers = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _conv_net(
    name: str, num_classes: int, in_channels: int, width: float, input_shape: tuple[int, ...] | None, **arch
) -> ConvNet:
    height, width_ = spatial_shape(input_shape, 2, name, required=True)
    if min(height, width_) < 4:
        raise ValueError(f"{name} max-pools twice and needs H, W >= 4, got input_shape {tuple(input_shape or ())}")
    channels = (scale_width(32, width), scale_width(64, width))
    return ConvNet(in_channels, num_classes, (height, width_), channels, scale_width(128, width), **arch)


def basic_cnn(
    num_classes: int, in_channels: int, *, width: float = 1.0, input_shape: tuple[int, ...] | None = None
) -> ConvNet:
    """Paper 2's proxy network (see the module docstring); ``input_shape`` ``(C, H, W)`` is required."""
    return _conv_net("basic_cnn", num_classes, in_channels, width, input_shape, kernel=5, batch_norm=False)


def small_cnn(
    num_classes: int, in_channels: int, *, width: float = 1.0, input_shape: tuple[int, ...] | None = None
) -> ConvNet:
    """Small CNN for 28x28 grayscale images; ``input_shape`` ``(C, H, W)`` is required."""
    return _conv_net("small_cnn", num_classes, in_channels, width, input_shape, kernel=3, batch_norm=True)


def cnn1d(
    num_classes: int, in_channels: int, *, width: float = 1.0, input_shape: tuple[int, ...] | None = None
) -> CNN1d:
    """1-D CNN for MNIST-1D-like signals; ``input_shape`` ``(C, L)`` is required."""
    (length,) = spatial_shape(input_shape, 1, "cnn1d", required=True)
    return CNN1d(in_channels, num_classes, length, scale_width(32, width))


def mlp(
    num_classes: int, in_channels: int, *, width: float = 1.0, input_shape: tuple[int, ...] | None = None
) -> MLP:
    """MLP on flattened inputs of any ``input_shape`` (required; its first entry is the channel count)."""
    if input_shape is None:
        raise ValueError("mlp needs input_shape (per example, without batch) to size its first layer")
    hidden = scale_width(256, width)
    return MLP(math.prod(input_shape), num_classes, (hidden, hidden))
