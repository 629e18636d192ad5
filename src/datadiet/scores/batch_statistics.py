"""GraNd with BatchNorm on batch statistics: per-example loss gradients through the batch-normalized forward of
each scoring batch (the definition is in :mod:`datadiet.scores.gradient_norm`, ``batchnorm="batch"``).

Also the loss dtype of the logits, which every exact GraNd backend shares.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from datadiet.data.batches import Batch, Data, num_examples
from datadiet.data.model_calls import checked_logits, to_device
from datadiet.inference import eval_mode

__all__ = ["BatchStatisticsNorms", "at_least_float32", "batch_statistics", "batchnorm_layers", "check_batches"]


def at_least_float32(logits: Tensor) -> Tensor:
    """Logits in float32, or float64 if they already are."""
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


def batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """The BatchNorm layers of ``model`` (any ``_BatchNorm``: 1d, 2d, 3d, sync, lazy)."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextlib.contextmanager
def batch_statistics(model: nn.Module) -> Iterator[nn.Module]:
    """Evaluation mode except the BatchNorm layers, which normalize with the statistics of the batch they see; on
    exit every module's mode and the BatchNorm running statistics (and batch counts) are restored."""
    layers = batchnorm_layers(model)
    saved = [[b.detach().clone() for b in m.buffers(recurse=False)] for m in layers]
    with eval_mode(model):
        for m in layers:
            m.train()
        try:
            yield model
        finally:
            with torch.no_grad():
                for m, buffers in zip(layers, saved):
                    for buffer, old in zip(m.buffers(recurse=False), buffers):
                        buffer.copy_(old)


def check_batches(data: Data, batch_size: int, backend: str) -> None:
    """Refuse, before any work, what batch statistics cannot score: a batch of one example, backends without it."""
    if backend not in ("auto", "loop"):
        raise ValueError(f"batchnorm='batch' takes backend 'auto' or 'loop', not {backend!r} (the examples of a "
                         "batch interact through its statistics)")
    n = num_examples(data)
    if not isinstance(data, DataLoader) and (batch_size < 2 or n % batch_size == 1):
        raise ValueError(f"batchnorm='batch' normalizes by each batch's statistics, but batch_size={batch_size} "
                         f"leaves a batch of one of the {n} examples; choose a batch_size that does not")


class BatchStatisticsNorms:
    """Squared per-example gradient norms ``(B,)`` of each batch, the BatchNorm layers on the batch's statistics
    (inside :func:`batch_statistics`): one forward pass of the batch, then one backward pass of its graph per
    example's loss (the examples interact through the statistics, so no per-layer shortcut applies)."""

    def __init__(self, model: nn.Module, device: torch.device) -> None:
        self.model, self.device = model, device
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("the model has no trainable parameters (requires_grad=True)")

    def __call__(self, batch: Batch, first: bool) -> Tensor:
        if len(batch) < 2:
            raise ValueError("batchnorm='batch' normalizes by each batch's statistics, but the data yielded a batch "
                             "of one example; use batches of at least 2")
        logits = checked_logits(self.model, batch, to_device(batch.inputs, self.device), first)
        losses = F.cross_entropy(at_least_float32(logits), batch.labels.to(self.device), reduction="none")
        out = torch.empty(len(losses), dtype=torch.float64, device=losses.device)
        for i in range(len(losses)):
            grads = torch.autograd.grad(losses[i], self.params, retain_graph=i + 1 < len(losses), allow_unused=True)
            out[i] = sum((g.square().sum(dtype=torch.float64) for g in grads if g is not None), out.new_zeros(()))
        return out
