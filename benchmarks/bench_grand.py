"""Exact GraNd on one batch: datadiet's hooks against a training step, a per-example loop and torch.func vmap(grad).

Command:  python benchmarks/bench_grand.py            # small_cnn, ResNet18 width 0.25 and full width
          python benchmarks/bench_grand.py --quick    # small_cnn and ResNet18 width 0.25, 2 repetitions
Runtime:  about 10 minutes on 2 CPU cores (full-width ResNet18 dominates; --quick: under a minute).
Expected: ours <= 1.2x a training step at full width and <= 2x on every model, faster than the loop and vmap.

Batch 128, 10 classes, random inputs. The reference is one standard training step on the same batch (train mode,
forward, mean cross-entropy, backward, SGD step with Nesterov momentum and weight decay). The per-example methods
run in evaluation mode and return every example's full-parameter gradient norm: ``grand`` (ours, hooks backend),
a loop of 128 single-example backward passes, and ``torch.func.vmap(grad)`` over the whole batch. All methods
run alternately in one process on one thread, after a warm-up; each repetition's ratio is the method's CPU time
over the training step's in that repetition, and the table gives the median (the loop and vmap are slow, so they
run ``--alt-reps`` times). Extra peak memory: the peak resident set size of a fresh subprocess per method, after
the run minus before it (model and batch built, the method warmed up on 2 examples), read from ``VmHWM`` in ``/proc/self/status``: on Linux a
child's ``ru_maxrss`` starts from its parent's peak, which would hide everything below the benchmark's own peak.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from datadiet.models import create_model
from datadiet.scores import grand

BATCH, CLASSES = 128, 10
MODELS = {  # name: (model, width, input shape)
    "small_cnn": ("small_cnn", 1.0, (1, 28, 28)),
    "resnet18-w0.25": ("resnet18", 0.25, (3, 32, 32)),
    "resnet18": ("resnet18", 1.0, (3, 32, 32)),
}
METHODS = ("train_step", "ours", "loop", "vmap")


def setup(model_key: str) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    name, width, shape = MODELS[model_key]
    torch.manual_seed(0)
    model = create_model(name, CLASSES, shape[0], width=width, input_shape=shape)
    g = torch.Generator().manual_seed(1)
    return model, torch.randn(BATCH, *shape, generator=g), torch.randint(0, CLASSES, (BATCH,), generator=g)


def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], object]:
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def step() -> None:
        model.train()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def loop(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    model.eval()
    norms = []
    for i in range(len(y)):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        norms.append(sum(p.grad.square().sum() for p in model.parameters()))
    return torch.stack(norms).sqrt()


def vmap_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    model.eval()
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def loss(p: dict, xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(torch.func.functional_call(model, (p, buffers), (xi[None],)), yi[None])

    grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    return sum(g.flatten(1).square().sum(1) for g in grads.values()).sqrt()


def runner(method: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], object]:
    if method == "train_step":
        return train_step(model, x, y)
    if method == "ours":
        return lambda: grand(model, (x, y), batch_size=BATCH)
    return lambda: (loop if method == "loop" else vmap_grad)(model, x, y)


def cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def time_model(model_key: str, reps: int, alt_reps: int) -> dict[str, list[float]]:
    """Training-step seconds and every method's ratio to the training step, per repetition.

    Training steps change the weights, so a second copy of the model serves the per-example methods.
    """
    trained, x, y = setup(model_key)
    scored, _, _ = setup(model_key)
    runs = {m: runner(m, trained if m == "train_step" else scored, x, y) for m in METHODS}
    for m in METHODS:  # warm-up; the slow alternatives on 8 examples
        (runs[m] if m in ("train_step", "ours") else runner(m, scored, x[:8], y[:8]))()
    ratios: dict[str, list[float]] = {m: [] for m in METHODS if m != "train_step"}
    steps = []
    for r in range(reps):
        steps.append(cpu_time(runs["train_step"]))
        for m in ratios:
            if m == "ours" or r < alt_reps:
                ratios[m].append(cpu_time(runs[m]) / steps[-1])
    return {"step_seconds": steps, **ratios}


def peak_memory_mb(model_key: str, method: str) -> float:
    """Extra peak resident memory of one run of ``method``, measured in a fresh subprocess."""
    out = subprocess.run([sys.executable, __file__, "--memory-probe", model_key, method],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["extra_mb"]


def peak_rss_kb() -> int:
    """Peak resident set size of this process image (``VmHWM``), in kB."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def memory_probe(model_key: str, method: str) -> None:
    torch.set_num_threads(1)
    model, x, y = setup(model_key)
    runner(method, model, x[:2], y[:2])()  # loads kernels and libraries, which are not working memory
    before = peak_rss_kb()
    runner(method, model, x, y)()
    print(json.dumps({"extra_mb": (peak_rss_kb() - before) / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small_cnn and ResNet18 width 0.25, 2 repetitions")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the training step and ours")
    parser.add_argument("--alt-reps", type=int, default=2, help="repetitions of the loop and vmap (full width: 1)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), help="default: all (--quick: the small ones)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--memory-probe", nargs=2, metavar=("MODEL", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(*args.memory_probe)
        return
    torch.set_num_threads(1)
    models = args.models or (["small_cnn", "resnet18-w0.25"] if args.quick else list(MODELS))
    reps = 2 if args.quick else args.reps
    allocator = "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "default (glibc)"
    print(f"torch {torch.__version__}, 1 thread, CPU time, batch {BATCH}, allocator {allocator}")
    print("| model | training step (s) | ours (range) | loop | vmap(grad) | extra peak MB: step / ours / loop / vmap |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in models:
        alt = 1 if key == "resnet18" else min(args.alt_reps, reps)
        result = time_model(key, reps, alt)
        cells = [f"{statistics.median(result[m]):.2f}x" for m in METHODS[1:]]
        cells[0] += f" ({min(result['ours']):.2f}-{max(result['ours']):.2f})"
        memory = "-" if args.no_memory else " / ".join(f"{peak_memory_mb(key, m):.0f}" for m in METHODS)
        print(f"| {key} | {statistics.median(result['step_seconds']):.2f} | {' | '.join(cells)} | {memory} |",
              flush=True)


if __name__ == "__main__":
    main()
