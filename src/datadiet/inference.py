"""The fastest way to run a model forward over many examples, without touching the caller's model."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn

__all__ = ["Device", "check_batch_size", "eval_mode", "forward_batch_size", "inference_model", "model_device"]

Device = torch.device | str | None


def inference_model(model: nn.Module, x: object, device: torch.device) -> tuple[nn.Module, torch.memory_format]:
    """The model to run inference-only passes with, and the memory format to give its inputs.

    On the CPU, convolutional networks run their forward pass 1.2-1.5x faster in ``channels_last`` (max-pooling
    most of all), so images ``(N, C, H, W)`` go through a ``channels_last`` copy of the model: the caller's model
    is never converted. Elsewhere (other devices, other inputs such as dicts of token ids) the model itself, inputs
    as they are. ``x`` is the data's inputs or a batch of them.
    """
    images = isinstance(x, torch.Tensor) and x.dim() == 4
    if device.type != "cpu" or not images or not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return model, torch.contiguous_format
    # Module.to takes memory_format at runtime; the stub's overloads leave it out.
    converted = copy.deepcopy(model).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return converted, torch.channels_last


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


def model_device(model: nn.Module, device: Device) -> torch.device:
    """The device to compute on: ``device`` if given, else the device of the model's parameters.

    The model is never moved: it must already live on ``device``.
    """
    if device is not None:
        return torch.device(device)
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def check_batch_size(batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def forward_batch_size(batch_size: int | None, device: torch.device) -> int:
    """``batch_size`` checked, or the default for forward passes: 1024 on accelerators, 128 on the CPU.

    On the CPU a pass in batches of 1024 cost 2.5x one in batches of 128 (``benchmarks/bench_el2n.py
    --batch-sizes``: their activations page-fault under the default allocator).
    """
    if batch_size is None:
        return 128 if device.type == "cpu" else 1024
    check_batch_size(batch_size)
    return batch_size
