"""The scoring pass of dynamic pruning: every example's current cross-entropy loss.

The model runs in evaluation mode (BatchNorm uses its running statistics) under ``torch.inference_mode`` on the
un-augmented inputs; its training mode is restored afterwards. **High loss = uncertain = worth training on.**
``data`` is anything :mod:`datadiet.data.batches` accepts (tensors, any ``Dataset`` or ``DataLoader``, dict
batches), streamed batch by batch. Inside a torch.distributed process group of R processes, each rank scores every
R-th example and the scores are all-gathered, so every rank returns all N losses at 1/R of the cost (a
``DataLoader`` is read whole by every rank, as it was built).

A partial pass (``enter_epoch(..., score_source="stale")``) forwards only the
examples the pruner has not seen in a training batch since its last checkpoint; those it trained on keep the loss
of their training batch. At keep 0.3 that is 0.7 N examples per checkpoint, and none at the checkpoint after a
warm-up epoch on all data. One process only (a process group would first have to merge what each rank trained on).

``precision="bf16"`` (``score_precision`` of :func:`enter_epoch` and the callbacks) runs the forward pass under
bfloat16 autocast: on a CPU it took 0.6-0.8x the time of float32 and ranked the examples the same (Spearman 1.0000,
``benchmarks/bench_scoring_precision.py``). The losses are computed and returned in float32 either way.
"""

from __future__ import annotations

import contextlib
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

__all__ = [
    "SCORE_PRECISIONS", "SCORE_SOURCES", "check_score_precision", "check_score_source", "enter_epoch",
    "learns_from_batches", "resolve_score_source", "scores_by_pass", "scoring_pass", "scoring_positions",
]

SCORE_SOURCES = ("pass", "batch", "stale")
"""Where a pruner's losses come from: a scoring pass over all examples at each checkpoint (``"pass"``, paper 2's
rule), the training batches (``"batch"``, InfoBatch's), or both, the pass over the stale examples only
(``"stale"``)."""


SCORE_PRECISIONS = ("fp32", "bf16")
"""Precision of a scoring pass's forward: float32, or bfloat16 autocast (the losses are float32 either way)."""


def check_score_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`SCORE_PRECISIONS`, else ``ValueError`` naming them."""
    if precision not in SCORE_PRECISIONS:
        raise ValueError(f"unknown score_precision {precision!r}; valid: {', '.join(SCORE_PRECISIONS)}")
    return precision


def _autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if check_score_precision(precision) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def scores_by_pass(source: str) -> bool:
    """True if ``source`` runs scoring passes at checkpoints (over all examples, or the stale ones)."""
    return source in ("pass", "stale")


def learns_from_batches(source: str) -> bool:
    """True if ``source`` feeds the pruner the training batches' losses."""
    return source in ("batch", "stale")


def check_score_source(source: str) -> str:
    """``source`` if it is one of :data:`SCORE_SOURCES`, else ``ValueError`` naming them."""
    if source not in SCORE_SOURCES:
        raise ValueError(f"unknown score_source {source!r}; valid: {', '.join(SCORE_SOURCES)}")
    return source


def resolve_score_source(pruner: DynamicPruner, score_source: str | None) -> str:
    """``score_source``, or the pruner's policy's own when None (``"pass"``; InfoBatch: ``"batch"``); an unknown one
    raises ``ValueError``."""
    return check_score_source(pruner.policy.default_score_source if score_source is None else score_source)


def _refuse_partial_pass_in_a_group() -> None:
    if is_distributed():
        raise ValueError("score_source='stale' runs in one process (each rank trains on its own shard, so what is "
                         "stale differs between ranks); under torch.distributed use score_source='pass' or 'batch'")


def scoring_positions(n: int) -> torch.Tensor:
    """Positions this process scores: all ``n`` alone, else every R-th from its rank, padded to equal length."""
    world, rank = replica_info(None, None) if is_distributed() else (1, 0)
    per_rank = math.ceil(n / world)
    return torch.arange(rank, per_rank * world, world) % n


def scoring_pass(model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None,
                 only: torch.Tensor | None = None, precision: str = "fp32") -> torch.Tensor:
    """Per-example cross-entropy of ``model`` on all of ``data``, shape ``(N,)``, float32, on the CPU; with ``only``
    (positions ``(m,)``, one process, not a ``DataLoader``) on those examples alone, shape ``(m,)``; the forward
    pass in ``precision`` (:data:`SCORE_PRECISIONS`).

    ``device`` defaults to the model's, ``batch_size`` to :func:`~datadiet.inference.forward_batch_size`'s.
    Number of examples this process forwards: ``len(scoring_positions(N))`` (``m`` with ``only``).
    """
    device = model_device(model, device)
    batch_size = forward_batch_size(batch_size, device)
    n = num_examples(data)
    source = data.data if isinstance(data, DictBatches) else data
    if only is not None:
        _refuse_partial_pass_in_a_group()
    positions = scoring_positions(n) if is_distributed() and not isinstance(source, DataLoader) else only
    with torch.inference_mode(), eval_mode(model), _autocast(precision, device):
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
    if only is not None:
        return mine.clone()  # an ordinary tensor, made outside inference mode
    return all_gather_scores(mine.clone(), positions, n)


def enter_epoch(pruner: DynamicPruner, epoch: int, model: nn.Module, data: Data | None, *,
                batch_size: int | None = None, device: Device = None, score_source: str = "pass",
                score_precision: str = "fp32") -> int:
    """Enter ``epoch`` of ``pruner``, after the scoring pass over ``data`` that ``score_source`` asks for if the
    epoch's selection needs scores.

    ``score_source`` (:data:`SCORE_SOURCES`): ``"pass"`` scores all of ``data``; ``"stale"`` only the examples not
    given to :meth:`~DynamicPruner.update` since the last checkpoint (:meth:`~DynamicPruner.stale_positions`;
    refused here, before any training, inside a process group); ``"batch"`` scores nothing (the pruner is fed
    training-batch losses), as does ``data`` None. Returns the number of examples this process forwarded for
    scoring (0 without a pass). Every training loop that drives the pruner (datadiet's trainer, the Lightning and
    Hugging Face callbacks) enters its epochs through this. ``score_precision``: the passes' forward precision
    (:data:`SCORE_PRECISIONS`).
    """
    if score_source == "stale":
        _refuse_partial_pass_in_a_group()
    forwarded = 0
    if data is not None and scores_by_pass(score_source) and pruner.needs_scores(epoch):
        if score_source == "stale":
            stale = pruner.stale_positions()
            if len(stale):
                pruner.update(stale, scoring_pass(model, data, batch_size=batch_size, device=device, only=stale,
                                                  precision=score_precision))
            forwarded = len(stale)
        else:
            pruner.score_all(scoring_pass(model, data, batch_size=batch_size, device=device,
                                          precision=score_precision))
            forwarded = len(scoring_positions(pruner.num_examples))
    pruner.set_epoch(epoch)
    return forwarded
