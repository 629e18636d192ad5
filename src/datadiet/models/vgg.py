"""VGG16 with BatchNorm, CIFAR variant.

Thirteen 3x3 convolutions (with bias, as in torchvision's ``vgg16_bn``), each followed by BatchNorm and ReLU, in
the configuration [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M] (channels times
``width``, M = 2x2 max-pool). On 32x32 inputs the last map is 1x1; global average pooling, flatten and a single
Linear layer give the logits (no 4096-unit ImageNet head, no dropout). Five max-pools need inputs of at least
32x32. At width 1 on 3x32x32 with 10 classes: 14,728,266 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from datadiet.models.common import init_weights, scale_width, spatial_shape

__all__ = ["VGG", "VGG16_CONFIG", "vgg16"]

VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip


class VGG(nn.Module):
    """VGG with BatchNorm: ``(N, in_channels, H, W) -> (N, num_classes)`` logits, ``H, W >= 2**(#pools)``."""

    def __init__(
        self, config: tuple[int | str, ...], num_classes: int, in_channels: int = 3, width: float = 1.0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                out_ch = scale_width(int(item), width)
                layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU()]
                in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def vgg16(
    num_classes: int, in_channels: int = 3, *, width: float = 1.0, input_shape: tuple[int, ...] | None = None
) -> VGG:
    """VGG16-BN (CIFAR variant); ``input_shape`` ``(C, H, W)`` is optional and checked against the 32x32 minimum."""
    spatial = spatial_shape(input_shape, 2, "vgg16", required=False)
    min_size = 2 ** VGG16_CONFIG.count("M")
    if spatial is not None and min(spatial) < min_size:
        raise ValueError(
            f"vgg16 max-pools {VGG16_CONFIG.count('M')} times and needs inputs of at least {min_size}x{min_size}, "
            f"got input_shape {tuple(input_shape or ())}; use a ResNet or small_cnn for smaller images"
        )
    return VGG(VGG16_CONFIG, num_classes, in_channels, width)
