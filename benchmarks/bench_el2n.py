"""EL2N over the whole Fashion-MNIST training set against one training epoch on it (small_cnn, batch 128).

Command:  /work/venv/bin/python benchmarks/bench_el2n.py            # 60,000 examples, 3 repetitions
          /work/venv/bin/python benchmarks/bench_el2n.py --quick    # 10,000 examples, 2 repetitions
Runtime:  about 5 minutes on 2 CPU cores (--quick: about 1 minute).
Expected: an EL2N pass costs at most 0.35x a training epoch.

The epoch is a bare loop (train mode, forward, mean cross-entropy, backward, SGD step with Nesterov momentum and
weight decay) over batches of 128 cut in advance; the EL2N pass is ``datadiet.scores.el2n`` with its defaults
(evaluation mode, inference mode, batches of 1024). Both run alternately in one process on one thread, after a
warm-up; the figure is the median over repetitions of the ratio of their CPU times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from datadiet.data import load_splits
from datadiet.models import create_model
from datadiet.scores import el2n

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fashion-mnist"


def bare_epoch(model: torch.nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 examples, 2 repetitions")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_splits("fashion-mnist", DATA).train
    if args.quick:
        data = data.subset(range(10_000))
    reps = 2 if args.quick else args.reps
    torch.manual_seed(0)
    model = create_model("small_cnn", data.num_classes, data.in_channels, input_shape=data.input_shape)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    batches = [(data.x[order[i : i + 128]], data.y[order[i : i + 128]]) for i in range(0, len(data), 128)]
    bare_epoch(model, batches[:5])
    el2n(model, data.subset(range(2048)))
    epochs, ratios = [], []
    for _ in range(reps):
        epochs.append(cpu_time(lambda: bare_epoch(model, batches)))
        ratios.append(cpu_time(lambda: el2n(model, data)) / epochs[-1])
    allocator = "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "default (glibc)"
    print(f"torch {torch.__version__}, 1 thread, CPU time, {reps} repetitions, allocator {allocator}")
    print("| examples | training epoch (s) | EL2N pass / epoch (median) | range |")
    print("| --- | --- | --- | --- |")
    print(f"| {len(data)} | {statistics.median(epochs):.1f} | {statistics.median(ratios):.3f} "
          f"| {min(ratios):.3f}-{max(ratios):.3f} |")


if __name__ == "__main__":
    main()
