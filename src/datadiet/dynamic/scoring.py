"""The scoring pass of dynamic pruning: every example's current cross-entropy loss.

The model runs in evaluation mode (BatchNorm uses its running statistics) under ``torch.inference_mode`` on the
un-augmented inputs; its training mode is restored afterwards. **High loss = uncertain = worth training on.**
``data`` is anything :mod:`datadiet.data.batches` accepts (tensors, any ``Dataset`` or ``DataLoader``, dict
batches), streamed batch by batch. Inside a torch.distributed process group of R processes, each rank scores every
R-th example and the scores are all-gathered, so every rank returns all N losses at 1/R of the cost (a
``DataLoader`` is read whole by every rank, as it was built).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from datadiet.data.batches import Batch, Data, DictBatches, iter_batches, num_examples, score_examples
from datadiet.data.model_calls import Forward
from datadiet.dynamic.distributed import all_gather_scores, is_distributed, replica_info
from datadiet.dynamic.pruner import DynamicPruner
from datadiet.inference import Device, eval_mode, forward_batch_size, model_device

__all__ = ["enter_epoch", "scoring_pass", "scoring_positions"]


def scoring_positions(n: int) -> torch.Tensor:
    """Positions this process scores: all ``n`` alone, else every R-th from its rank, padded to equal length."""
    world, rank = replica_info(None, None) if is_distributed() else (1, 0)
    per_rank = math.ceil(n / world)
    return torch.arange(rank, per_rank * world, world) % n


def scoring_pass(model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None) -> torch.Tensor:
    """Per-example cross-entropy of ``model`` on all of ``data``, shape ``(N,)``, float32, on the CPU.

    ``device`` defaults to the model's, ``batch_size`` to :func:`~datadiet.inference.forward_batch_size`'s.
    Number of examples this process forwards: ``len(scoring_positions(N))``.
    """
    device = model_device(model, device)
    batch_size = forward_batch_size(batch_size, device)
    n = num_examples(data)
    source = data.data if isinstance(data, DictBatches) else data
    positions = scoring_positions(n) if is_distributed() and not isinstance(source, DataLoader) else None
    with torch.inference_mode(), eval_mode(model):
        forward = Forward(model, device)

        def losses(batch: Batch, first: bool) -> torch.Tensor:
            return F.cross_entropy(forward(batch, first).float(), batch.labels.to(device), reduction="none").cpu()

        if positions is None:
            everything = score_examples(data, losses, batch_size=batch_size)
        else:
            batches = iter_batches(data, batch_size=batch_size, positions=positions)
            mine = torch.cat([losses(batch, b == 0) for b, batch in enumerate(batches)])
    if positions is None:
        return everything.float()  # a float32 copy made outside inference mode: an ordinary tensor
    return all_gather_scores(mine.clone(), positions, n)


def enter_epoch(pruner: DynamicPruner, epoch: int, model: nn.Module, data: Data | None, *,
                batch_size: int | None = None, device: Device = None) -> int:
    """Enter ``epoch`` of ``pruner``, after a scoring pass over ``data`` if the epoch's selection needs one.

    ``data`` None: no scoring pass (the pruner is fed training-batch losses instead). Returns the number of
    examples this process forwarded for scoring (0 without a pass). Every training loop that drives the pruner
    (datadiet's trainer, the Lightning and Hugging Face callbacks) enters its epochs through this.
    """
    forwarded = 0
    if data is not None and pruner.needs_scores(epoch):
        pruner.score_all(scoring_pass(model, data, batch_size=batch_size, device=device))
        forwarded = len(scoring_positions(pruner.num_examples))
    pruner.set_epoch(epoch)
    return forwarded
