"""ResNet v1 for low-resolution images (the CIFAR variant used by both papers).

The ImageNet stem (7x7 stride-2 convolution + max-pool) is replaced by one 3x3 stride-1 convolution + BatchNorm +
ReLU. Four stages of 64, 128, 256, 512 channels (times ``width``) with strides 1, 2, 2, 2; a stride or width
change puts a 1x1 convolution + BatchNorm on the shortcut (option B). Adaptive average pooling makes any input
size work (e.g. 3x32x32, 1x28x28, 1x8x8). At width 1 on 3x32x32 with 10 classes: ResNet18 11,173,962 parameters,
ResNet34 21,282,122, ResNet50 23,520,842.
"""

from __future__ import annotations

import torch
from torch import nn

from datadiet.models.common import init_weights, scale_width, spatial_shape

__all__ = ["DEPTHS", "BasicBlock", "Bottleneck", "ResNet", "resnet"]

STAGE_CHANNELS = (64, 128, 256, 512)
STAGE_STRIDES = (1, 2, 2, 2)


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(out_ch)]


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(*_conv_bn(in_ch, out_ch, 1, stride))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection: ``(N, in_ch, H, W) -> (N, ch, H/stride, W/stride)``."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.residual = nn.Sequential(*_conv_bn(in_ch, ch, 3, stride), nn.ReLU(), *_conv_bn(ch, ch, 3))
        self.shortcut = _shortcut(in_ch, ch, stride)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.residual(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand to ``4 * ch``: ``(N, in_ch, H, W) -> (N, 4 ch, H/s, W/s)``."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = self.expansion * ch
        self.residual = nn.Sequential(
            *_conv_bn(in_ch, ch, 1), nn.ReLU(), *_conv_bn(ch, ch, 3, stride), nn.ReLU(), *_conv_bn(ch, out_ch, 1)
        )
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.residual(x) + self.shortcut(x))


class ResNet(nn.Module):
    """Low-resolution ResNet v1: ``(N, in_channels, H, W) -> (N, num_classes)`` logits."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: tuple[int, int, int, int],
        num_classes: int,
        in_channels: int = 3,
        width: float = 1.0,
    ) -> None:
        super().__init__()
        channels = [scale_width(c, width) for c in STAGE_CHANNELS]
        self.stem = nn.Sequential(*_conv_bn(in_channels, channels[0], 3), nn.ReLU())
        stages, in_ch = [], channels[0]
        for ch, stride, n_blocks in zip(channels, STAGE_STRIDES, blocks_per_stage):
            stage = []
            for s in [stride] + [1] * (n_blocks - 1):
                stage.append(block(in_ch, ch, s))
                in_ch = ch * block.expansion
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


DEPTHS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


def resnet(
    depth: int,
    num_classes: int,
    in_channels: int = 3,
    *,
    width: float = 1.0,
    input_shape: tuple[int, ...] | None = None,
) -> ResNet:
    """ResNet18, 34 or 50 (``depth``); ``input_shape`` ``(C, H, W)`` is optional and only checked."""
    if depth not in DEPTHS:
        raise ValueError(f"ResNet depth must be one of {sorted(DEPTHS)}, got {depth}")
    spatial_shape(input_shape, 2, f"resnet{depth}", required=False)
    block, blocks_per_stage = DEPTHS[depth]
    return ResNet(block, blocks_per_stage, num_classes, in_channels, width)
