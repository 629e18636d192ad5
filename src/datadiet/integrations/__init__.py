"""datadiet inside other people's training loops: PyTorch Lightning and the Hugging Face ``Trainer``.

- :mod:`datadiet.integrations.lightning` (``pip install "datadiet[lightning]"``): Lightning callbacks that run
  dynamic pruning inside a normal ``Trainer.fit`` (the pruner is the train ``DataLoader``'s sampler) and feed
  any per-example accumulator (forgetting, the training-dynamics recording) from the training steps.
- :mod:`datadiet.integrations.hugging_face` (``pip install "datadiet[hf]"``): the same two for
  ``transformers.Trainer``, through ``TrainerCallback`` objects and ``PerExampleTrainer``, a small subclass of
  ``Trainer`` you opt into.

Both take your model, data and framework objects as they are: nothing is wrapped or patched. Import the submodule
you need; this package imports neither framework. :func:`gather_result` is what both use under DDP, and
:func:`check_pruning_options` checks what both dynamic-pruning callbacks are given.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from datadiet.callbacks import BatchResult
from datadiet.data.batches import Data
from datadiet.dynamic.pruner import DynamicPruner
from datadiet.dynamic.scoring import resolve_score_source

__all__ = ["check_pruning_options", "gather_result"]


def check_pruning_options(pruner: DynamicPruner, score_source: str | None, score_data: Data | None,
                          losses_from: str) -> str:
    """Refuse a dynamic-pruning callback's options that cannot work, and return its score source (None: the
    policy's own); ``losses_from`` names where per-example training losses come from (for the message)."""
    if not isinstance(pruner, DynamicPruner):
        raise ValueError(f"pruner must be a DynamicPruner, got {type(pruner).__name__}")
    score_source = resolve_score_source(pruner, score_source)
    if score_source in ("pass", "stale") and pruner.policy.needs_scores and score_data is None:
        raise ValueError(f"policy {pruner.policy.name!r} with score_source={score_source!r} scores examples at each "
                         "checkpoint: pass score_data=<the training set> (anything scoring_pass takes), or "
                         f"score_source='batch' to rank by {losses_from}")
    return score_source


def gather_result(result: BatchResult) -> BatchResult:
    """``result`` of every rank of the process group, concatenated in rank order (batches may differ in size)."""
    logits = result.logits
    device = logits.device if dist.get_backend() == "nccl" else torch.device("cpu")
    parts = [result.positions, result.labels, result.losses, logits.T]
    rows = torch.cat([p.to(device, torch.float64).reshape(-1, len(result.positions)) for p in parts])
    sizes = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([rows.shape[1]], device=device))
    most = int(max(sizes))
    gathered = [torch.empty(rows.shape[0], most, dtype=rows.dtype, device=device) for _ in sizes]
    dist.all_gather(gathered, F.pad(rows, (0, most - rows.shape[1])))
    every = torch.cat([g[:, :int(s)] for g, s in zip(gathered, sizes)], dim=1)
    positions, labels, losses, z = every[0], every[1], every[2], every[3:]
    return BatchResult(positions.long().cpu(), z.T.to(logits.device, logits.dtype),
                       labels.long().to(logits.device), losses.to(logits.device, result.losses.dtype),
                       result.epoch, result.step)
