"""Helpers shared by the score functions: reading data, choosing the device, evaluation mode, batching."""

from __future__ import annotations

import torch
from torch import nn

from datadiet.data.dataset import IndexedDataset

__all__ = ["Data", "Device", "check_batch_size", "forward_batch_size", "inputs_and_labels", "model_device"]

Data = IndexedDataset | tuple[torch.Tensor, torch.Tensor]
"""An :class:`IndexedDataset`, or a pair ``(x (N, ...), y (N,))`` of input and integer label tensors."""

Device = torch.device | str | None


def inputs_and_labels(data: Data) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(N, ...)`` and int64 labels ``(N,)`` of ``data``, checked."""
    if isinstance(data, IndexedDataset):
        return data.x, data.y
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data)):
        raise ValueError(f"data must be an IndexedDataset or a pair (x, y) of tensors, got {type(data).__name__}")
    x, y = data
    if y.dim() != 1 or len(x) != len(y):
        raise ValueError(f"need x of shape (N, ...) and y of shape (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(f"labels y must be integer class indices, got dtype {y.dtype}")
    return x, y.long()


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

    On the CPU larger batches were up to 2x slower (their activations page-fault under the default allocator).
    """
    if batch_size is None:
        return 128 if device.type == "cpu" else 1024
    check_batch_size(batch_size)
    return batch_size
