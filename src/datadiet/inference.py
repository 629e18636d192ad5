"""The fastest way to run a model forward over many examples, without touching the caller's model."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn

__all__ = ["eval_mode", "inference_model"]


def inference_model(model: nn.Module, x: torch.Tensor, device: torch.device) -> tuple[nn.Module, torch.memory_format]:
    """The model to run inference-only passes with, and the memory format to give its inputs.

    On the CPU, convolutional networks run their forward pass 1.2-1.5x faster in ``channels_last`` (max-pooling
    most of all), so images ``(N, C, H, W)`` go through a ``channels_last`` copy of the model: the caller's model
    is never converted. Elsewhere the model itself, inputs as they are.
    """
    if device.type != "cpu" or x.dim() != 4 or not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return model, torch.contiguous_format
    return copy.deepcopy(model).to(memory_format=torch.channels_last), torch.channels_last


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every module of ``model`` in evaluation mode, restoring each module's own flag afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, flag in flags:
            module.training = flag
