"""The scoring pass of dynamic pruning: every example's current cross-entropy loss.

The model runs in evaluation mode (BatchNorm uses its running statistics) under ``torch.inference_mode`` on the
un-augmented inputs; its training mode is restored afterwards. **High loss = uncertain = worth training on.**
Inside a torch.distributed process group of R processes, each rank scores every R-th example and the scores are
all-gathered, so every rank returns all N losses at 1/R of the cost.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from datadiet.data.dataset import IndexedDataset
from datadiet.dynamic.distributed import all_gather_scores, is_distributed, replica_info
from datadiet.inference import Device, eval_mode, forward_batch_size, inference_model, model_device

__all__ = ["scoring_pass", "scoring_positions", "split_inputs"]


def split_inputs(data: IndexedDataset | TensorDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(N, ...)`` and labels ``(N,)`` of an IndexedDataset or a TensorDataset of (x, y) or (i, x, y)."""
    if isinstance(data, IndexedDataset):
        return data.x, data.y
    if isinstance(data, TensorDataset) and len(data.tensors) in (2, 3):
        return data.tensors[-2], data.tensors[-1]
    raise ValueError(
        f"cannot score a {type(data).__name__}; valid: an IndexedDataset, or a TensorDataset of (x, y) or "
        "(index, x, y) tensors"
    )


def scoring_positions(n: int) -> torch.Tensor:
    """Positions this process scores: all ``n`` alone, else every R-th from its rank, padded to equal length."""
    world, rank = replica_info(None, None) if is_distributed() else (1, 0)
    per_rank = math.ceil(n / world)
    return torch.arange(rank, per_rank * world, world) % n


@torch.inference_mode()
def _losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor, positions: torch.Tensor, batch_size: int,
            device: torch.device, memory_format: torch.memory_format) -> torch.Tensor:
    out = torch.empty(len(positions))
    for start in range(0, len(positions), batch_size):
        pos = positions[start:start + batch_size].to(x.device)
        logits = model(x[pos].to(device, non_blocking=True, memory_format=memory_format))
        loss = F.cross_entropy(logits.float(), y[pos].to(device), reduction="none")
        out[start:start + len(pos)] = loss.cpu()
    return out


def scoring_pass(
    model: nn.Module, data: IndexedDataset | TensorDataset, *, batch_size: int | None = None, device: Device = None,
) -> torch.Tensor:
    """Per-example cross-entropy of ``model`` on all of ``data``, shape ``(N,)``, float32, on the CPU.

    ``device`` defaults to the model's, ``batch_size`` to :func:`~datadiet.inference.forward_batch_size`'s.
    Number of examples this process forwards: ``len(scoring_positions(N))``.
    """
    x, y = split_inputs(data)
    device = model_device(model, device)
    batch_size = forward_batch_size(batch_size, device)
    positions = scoring_positions(len(y))
    fast, memory_format = inference_model(model, x, device)
    with eval_mode(fast):
        losses = _losses(fast, x, y, positions, batch_size, device, memory_format).clone()  # not an inference tensor
    if is_distributed():
        return all_gather_scores(losses, positions, len(y))
    return losses
