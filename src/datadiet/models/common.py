"""Pieces shared by every datadiet network: width scaling, input-shape checks and weight initialization.

Initialization (one rule for all models, torchvision's ResNet rule): convolution weights (1-D and 2-D) are
Kaiming-normal with ``mode="fan_out"`` for ReLU and their biases zero; BatchNorm weights are 1 and biases 0;
fully connected layers keep PyTorch's default (weights and biases uniform in +-1/sqrt(fan_in)). Every draw
comes from the global torch generator, so ``torch.manual_seed(s)`` before construction fixes the network.
"""

from __future__ import annotations

from typing import Literal, overload

from torch import nn

__all__ = ["conv_output_size", "init_weights", "scale_width", "spatial_shape"]


def scale_width(channels: int, width: float) -> int:
    """Number of channels (or hidden units) ``channels * width``, rounded, at least 1."""
    return max(1, round(channels * width))


def init_weights(model: nn.Module) -> None:
    """Initialize ``model`` in place with the rule in the module docstring."""
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


@overload
def spatial_shape(
    input_shape: tuple[int, ...] | None, ndim: int, model: str, *, required: Literal[True]
) -> tuple[int, ...]: ...


@overload
def spatial_shape(
    input_shape: tuple[int, ...] | None, ndim: int, model: str, *, required: bool
) -> tuple[int, ...] | None: ...


def spatial_shape(
    input_shape: tuple[int, ...] | None, ndim: int, model: str, *, required: bool
) -> tuple[int, ...] | None:
    """Spatial part of ``input_shape`` (``(C, L)`` -> ``(L,)``, ``(C, H, W)`` -> ``(H, W)``) after checking it.

    Returns None when ``input_shape`` is None and not ``required``.
    """
    layout = "(C, L)" if ndim == 1 else "(C, H, W)"
    if input_shape is None:
        if required:
            raise ValueError(
                f"{model} needs input_shape {layout} (per example, without batch) to size its first "
                "fully connected layer"
            )
        return None
    if len(input_shape) != ndim + 1:
        raise ValueError(f"{model} expects input_shape {layout}, got {tuple(input_shape)}")
    return tuple(input_shape[1:])


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Length of one spatial axis after a convolution or pooling window (PyTorch's floor formula)."""
    return (size + 2 * padding - kernel) // stride + 1
