"""Shared pieces of the benchmark scripts: the reference training loop, timing, and where the data lives."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from datadiet.data.dataset import IndexedDataset

FASHION_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fashion-mnist"


def premade_batches(data: IndexedDataset, batch_size: int = 128, seed: int = 0) -> list[tuple[torch.Tensor, ...]]:
    """A shuffled epoch cut into ``(x, y)`` batches in advance."""
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return [(data.x[order[i : i + batch_size]], data.y[order[i : i + batch_size]])
            for i in range(0, len(data), batch_size)]


def bare_epoch(model: torch.nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """The reference: forward, mean cross-entropy, backward, SGD step (Nesterov, weight decay), nothing else."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def cpu_time(fn: Callable[[], object]) -> float:
    """CPU seconds of this process spent in ``fn()``."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def allocator() -> str:
    return "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "default (glibc)"
