"""Build any datadiet network by name.

Every model takes ``num_classes`` and ``in_channels`` and returns logits ``(N, num_classes)``; ``width`` scales
its channels and hidden sizes; ``input_shape`` is the per-example input shape without batch, e.g. (3, 32, 32),
(1, 28, 28) or (1, 40). Models are plain ``nn.Module`` s without lazy or in-place layers, ready for
``torch.func.functional_call`` / ``vmap`` right after construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from torch import nn

from datadiet.models.resnet import resnet
from datadiet.models.small import basic_cnn, cnn1d, mlp, small_cnn
from datadiet.models.vgg import vgg16

__all__ = ["count_parameters", "create_model", "list_models"]

_MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": partial(resnet, 18),
    "resnet34": partial(resnet, 34),
    "resnet50": partial(resnet, 50),
    "vgg16": vgg16,
    "basic_cnn": basic_cnn,
    "small_cnn": small_cnn,
    "cnn1d": cnn1d,
    "mlp": mlp,
}


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`, sorted."""
    return sorted(_MODELS)


def create_model(
    name: str,
    num_classes: int,
    in_channels: int,
    *,
    width: float = 1.0,
    input_shape: tuple[int, ...] | None = None,
) -> nn.Module:
    """Build the network ``name`` with fresh weights drawn from the global torch generator.

    ``mlp``, ``small_cnn``, ``basic_cnn`` and ``cnn1d`` need ``input_shape`` to size their first fully connected
    layer; the others check it when given. ``input_shape[0]`` must equal ``in_channels``.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(list_models())}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if in_channels < 1:
        raise ValueError(f"in_channels must be at least 1, got {in_channels}")
    if not (math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a positive finite number, got {width}")
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if not input_shape or any(int(s) != s or s < 1 for s in input_shape):
            raise ValueError(f"input_shape must be a non-empty tuple of positive integers, got {input_shape}")
        if input_shape[0] != in_channels:
            raise ValueError(f"input_shape {input_shape} starts with {input_shape[0]} channels, not {in_channels}")
    return _MODELS[name](num_classes, in_channels, width=width, input_shape=input_shape)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters in ``model`` (trainable or not; buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in model.parameters())
