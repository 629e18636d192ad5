"""Data-parallel training in datadiet's trainer: one process per device, each on its shard of every epoch.

Inside a torch.distributed process group of R processes (``torchrun --nproc_per_node=R``), rank r trains on
every R-th position of each epoch's order (the trainer's own permutation, or a selecting callback's positions,
which a :class:`~datadiet.dynamic.DynamicPruner` already shards), ``ceil(batch_size / R)`` examples per step,
so a step still sees about ``batch_size`` examples and the step count and learning-rate schedule are those of
one process. Gradients are averaged over the ranks after each backward pass (the model is not wrapped), and
BatchNorm's running statistics are copied from rank 0 at the end of every epoch, so every rank holds the same
model. Rank 0 evaluates and writes the files; the others wait for it. Outside a process group (or with R = 1)
every function here does nothing and the trainer runs as before.
"""

from __future__ import annotations

import atexit
import math
import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

from datadiet.data.dataset import fingerprint
from datadiet.dynamic.distributed import is_distributed, shard, shard_length

__all__ = ["Replicas", "init_from_env", "is_main_process", "selection_sha"]

T = TypeVar("T")


def init_from_env(device: str | None) -> str | None:
    """Join the process group torchrun describes (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``) and
    return the device this process trains on.

    Without those variables (or with ``WORLD_SIZE=1``) nothing happens and ``device`` is returned as given. On
    CUDA (asked for, or the default when present) each process takes GPU ``LOCAL_RANK`` and the backend is NCCL;
    on the CPU it is gloo. The group is destroyed when the process exits.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1 or (dist.is_available() and dist.is_initialized()):
        return device
    if "RANK" not in os.environ or "MASTER_ADDR" not in os.environ:
        raise ValueError(f"WORLD_SIZE={world} but RANK or MASTER_ADDR is not set: start the processes with "
                         "torchrun --nproc_per_node=N (or set RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() if device is None else torch.device(device).type == "cuda"
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"process with LOCAL_RANK {local_rank} has no GPU: this machine has "
                             f"{torch.cuda.device_count()}; start at most that many processes per machine")
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    dist.init_process_group("nccl" if cuda else "gloo")
    atexit.register(_destroy)
    return device if cuda else (device or "cpu")


def _destroy() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def is_main_process() -> bool:
    """True outside a process group and on rank 0 inside one: the process that writes the files."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def selection_sha(positions: torch.Tensor) -> str:
    """A short hash of the set of ``positions`` ``(m,)`` (their order does not matter)."""
    return fingerprint(positions.cpu().long().sort().values)


@dataclass(frozen=True)
class Replicas:
    """This process's place among the training processes: ``world`` of them, this one ``rank``."""

    world: int = 1
    rank: int = 0

    @classmethod
    def current(cls) -> Replicas:
        """From the process group, or one process outside one."""
        return cls(dist.get_world_size(), dist.get_rank()) if is_distributed() else cls()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def batch_size(self, batch_size: int) -> int:
        """Examples per step on this process, so that a step across all of them sees about ``batch_size``."""
        return math.ceil(batch_size / self.world)

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This rank's part of an epoch's order ``(n,)`` (every rank's part has the same length)."""
        return order if self.world == 1 else shard(order, self.world, self.rank, drop_last=False)

    def shard_length(self, n: int) -> int:
        return n if self.world == 1 else shard_length(n, self.world, drop_last=False)

    def broadcast_model(self, model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank."""
        if self.world > 1:
            for tensor in [*model.parameters(), *model.buffers()]:
                dist.broadcast(tensor.data, src=0)

    def sync_buffers(self, model: nn.Module) -> None:
        """Copy rank 0's buffers (BatchNorm's running statistics) to every rank."""
        if self.world > 1:
            for buffer in model.buffers():
                dist.broadcast(buffer.data, src=0)

    def average_gradients(self, model: nn.Module) -> None:
        """Replace each gradient by its mean over the ranks (one flat all-reduce)."""
        if self.world == 1:
            return
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def total(self, *values: torch.Tensor | int) -> list[float]:
        """Each value summed over the ranks (for the epoch's training loss, accuracy and example count)."""
        stacked = torch.tensor([float(v) for v in values], dtype=torch.float64)
        if self.world > 1:
            stacked = stacked.to(_collective_device())
            dist.all_reduce(stacked)
        return stacked.cpu().tolist()

    def gather(self, value: object) -> list:
        """Every rank's ``value`` (a small picklable object), in rank order."""
        if self.world == 1:
            return [value]
        values: list = [None] * self.world
        dist.all_gather_object(values, value)
        return values

    def from_main(self, value: T) -> T:
        """Rank 0's ``value`` on every rank."""
        if self.world == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
