"""torch.distributed plumbing: who am I, my shard of an epoch, and merging per-rank losses.

Sharding follows ``DistributedSampler``: rank r of R takes every R-th element of the (shuffled) epoch order,
starting at r. With ``drop_last=False`` the order is first padded with its own leading elements to a multiple of
R (a few examples are seen twice per epoch); with ``drop_last=True`` its tail is cut (a few are skipped).
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist

__all__ = ["all_gather_scores", "is_distributed", "merge_pending", "replica_info", "shard", "shard_length"]


def is_distributed() -> bool:
    """True inside an initialized process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def replica_info(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """``(num_replicas, rank)``, filling None from the process group (or 1 and 0 outside one)."""
    group = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if group else 1
    if rank is None:
        rank = dist.get_rank() if group else 0
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(f"need num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas} and {rank}")
    return num_replicas, rank


def shard_length(n: int, num_replicas: int, drop_last: bool) -> int:
    """Length of each rank's shard of an epoch of ``n`` examples."""
    return n // num_replicas if drop_last else math.ceil(n / num_replicas)


def shard(order: torch.Tensor, num_replicas: int, rank: int, drop_last: bool) -> torch.Tensor:
    """Rank ``rank``'s part of ``order`` ``(n,)``, shape ``(shard_length(n, ...),)``."""
    total = shard_length(len(order), num_replicas, drop_last) * num_replicas
    if total > len(order):
        order = torch.cat([order, order.repeat(math.ceil(total / len(order)))[: total - len(order)]])
    return order[rank:total:num_replicas]


def _device() -> torch.device:
    """Where collectives of the current backend want their tensors (NCCL: the current GPU)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_gather_scores(values: torch.Tensor, positions: torch.Tensor, n: int) -> torch.Tensor:
    """Scores of all ``n`` examples from every rank's ``values`` at ``positions`` (equal lengths on all ranks)."""
    device = _device()
    pair = torch.stack([values.double(), positions.double()]).to(device)
    gathered = [torch.empty_like(pair) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, pair)
    both = torch.cat(gathered, dim=1).cpu()
    full = torch.full((n,), float("nan"))
    full[both[1].long()] = both[0].float()
    return full


def merge_pending(latest: torch.Tensor, pending: torch.Tensor) -> torch.Tensor:
    """Average, over ranks, each example's latest loss among the ranks that saw it since the last merge.

    ``latest`` ``(N,)`` float, ``pending`` ``(N,)`` bool. Examples no rank saw keep their value. Every rank gets
    the same result.
    """
    device = _device()
    stacked = torch.stack([torch.where(pending, latest, 0.0).double(), pending.double()]).to(device)
    dist.all_reduce(stacked)
    sums, counts = stacked.cpu()
    seen = counts > 0
    merged = latest.clone()
    merged[seen] = (sums[seen] / counts[seen]).float()
    return merged
