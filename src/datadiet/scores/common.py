"""Helpers shared by the score functions: reading data."""

from __future__ import annotations

import torch

from datadiet.data.dataset import IndexedDataset

__all__ = ["Data", "inputs_and_labels"]

Data = IndexedDataset | tuple[torch.Tensor, torch.Tensor]
"""An :class:`IndexedDataset`, or a pair ``(x (N, ...), y (N,))`` of input and integer label tensors."""


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
