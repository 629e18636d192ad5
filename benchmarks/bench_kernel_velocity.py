"""One kernel-velocity point (100 examples, 10 classes): datadiet's blocked kernel against materializing Psi.

Command:  python benchmarks/bench_kernel_velocity.py
          python benchmarks/bench_kernel_velocity.py --no-timing --widths 0.0625 0.125 0.25 0.5
Runtime:  about 5 minutes on an idle 2-core machine (timing at width 0.25: 2.5 minutes; memory probes at widths
          0.0625-0.25: 2 minutes); width 0.5 adds about 6 minutes (ours only).
Expected: ours about 1.5x the naive time at width 0.25 for about a quarter of its memory; the naive peak grows as
          4 m K P bytes (10.7 GB at width 0.5), ours stays under 2 GB.

Model: ResNet18 (low-resolution stem) on 3x32x32 random inputs, 10 classes, m = 100 examples (1000 kernel rows).
**Timing** (width ``--width``, default 0.25): one velocity point is two kernels (the initialization and a
perturbed copy standing for "one epoch later") and their velocity. ``ours`` is
:func:`datadiet.analysis.logit_kernel` with its defaults (Jacobian blocks of 256 MiB, 10 examples per vmapped
chunk); ``naive`` builds the whole ``Psi`` ``(1000, P)`` with ``torch.func.vmap(jacrev)`` over all parameters
(10 examples at a time, into one preallocated matrix) and returns ``Psi Psi^T``. Both run alternately in one
process on one thread after a warm-up; the figure is the median ratio of CPU times. **Memory**: extra peak
resident memory of one kernel in a fresh single-thread subprocess per method and width: the peak (``VmHWM``)
is reset through ``/proc/self/clear_refs`` once the model and inputs are built, and the figure is the peak
after the kernel minus the resident size before it (Linux only). ``ru_maxrss`` cannot serve here: a child
inherits its parent's peak through fork and exec, and the parent has just run the timing. The naive method is
skipped where ``Psi`` alone would exceed ``--naive-max-gb`` (its size is printed instead). Allocator: the
default one unless ``LD_PRELOAD`` names jemalloc.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from common import allocator, cpu_time
from torch import nn
from torch.func import functional_call, jacrev, vmap

from datadiet.analysis import kernel_velocity, logit_kernel
from datadiet.models import count_parameters, create_model

EXAMPLES, CLASSES, CHUNK = 100, 10, 10


def setup(width: float) -> tuple[nn.Module, torch.Tensor, list[dict[str, torch.Tensor]]]:
    """ResNet18 at ``width``, 100 random inputs, and two states (the initialization and a perturbed copy)."""
    torch.manual_seed(0)
    model = create_model("resnet18", CLASSES, 3, width=width, input_shape=(3, 32, 32))
    x = torch.randn(EXAMPLES, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    first = {k: v.clone() for k, v in model.state_dict().items()}
    second = {k: v + 0.01 * v.std() * torch.randn_like(v) if v.is_floating_point() and v.numel() > 1 else v.clone()
              for k, v in first.items()}
    return model, x, [first, second]


def naive_kernel(model: nn.Module, x: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
    """Materialize ``Psi`` ``(m K, P)`` over all parameters, then ``Psi Psi^T`` in float64."""
    model.eval()
    names = [n for n, _ in model.named_parameters()]
    params = {n: state[n] for n in names}
    buffers = {n: state[n] for n, _ in model.named_buffers()}

    def logits(p: dict, xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, (p, buffers), (xi[None],))[0]

    jac = vmap(jacrev(logits), in_dims=(None, 0))
    psi = torch.empty(len(x) * CLASSES, sum(p.numel() for p in params.values()))
    for i in range(0, len(x), CHUNK):
        parts = jac(params, x[i : i + CHUNK])
        psi[i * CLASSES : (i + CHUNK) * CLASSES] = torch.cat([parts[n].flatten(2) for n in names], 2).flatten(0, 1)
    return (psi @ psi.T).double()


def kernel(method: str, model: nn.Module, x: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
    return logit_kernel(model, x, state=state) if method == "ours" else naive_kernel(model, x, state)


def velocity_point(method: str, model: nn.Module, x: torch.Tensor, states: list[dict]) -> float:
    return kernel_velocity(*(kernel(method, model, x, s) for s in states))


def time_methods(width: float, reps: int) -> dict[str, list[float]]:
    """CPU seconds of one velocity point per method and repetition, methods alternating."""
    model, x, states = setup(width)
    for method in ("ours", "naive"):
        kernel(method, model, x[:2], states[0])
    seconds: dict[str, list[float]] = {"ours": [], "naive": []}
    values: dict[str, list[float]] = {"ours": [], "naive": []}
    for _ in range(reps):
        for method in seconds:
            point = lambda: values[method].append(velocity_point(method, model, x, states))  # noqa: E731
            seconds[method].append(cpu_time(point))
    print(f"velocity ours {values['ours'][-1]:.9f}, naive {values['naive'][-1]:.9f}")
    return seconds


def probe(width: float, method: str) -> str:
    """``"extra peak MB (CPU s)"`` of one kernel, measured in a fresh subprocess."""
    out = subprocess.run([sys.executable, __file__, "--memory-probe", str(width), method],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return f"{result['extra_mb']:.0f} ({result['seconds']:.0f} s)"


def memory_probe(width: float, method: str) -> None:
    torch.set_num_threads(1)
    model, x, states = setup(width)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size restarts from the current one
    before, start = _status_kb("VmRSS"), time.process_time()
    kernel(method, model, x, states[0])
    print(json.dumps({"extra_mb": (_status_kb("VmHWM") - before) / 1024, "seconds": time.process_time() - start}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status``, in KiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25, help="ResNet18 width of the timing comparison")
    parser.add_argument("--reps", type=int, default=1, help="repetitions of the timing (each about 2.5 minutes)")
    parser.add_argument("--widths", type=float, nargs="+", default=[0.0625, 0.125, 0.25], help="memory probes")
    parser.add_argument("--naive-max-gb", type=float, default=4.0, help="skip naive probes whose Psi is larger")
    parser.add_argument("--no-timing", action="store_true", help="only the memory probes")
    parser.add_argument("--memory-probe", nargs=2, metavar=("WIDTH", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(float(args.memory_probe[0]), args.memory_probe[1])
        return
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, CPU time, m={EXAMPLES}, K={CLASSES}, allocator {allocator()}")
    if not args.no_timing:
        seconds = time_methods(args.width, args.reps)
        ratios = [o / n for o, n in zip(seconds["ours"], seconds["naive"])]
        print(f"width {args.width}: one velocity point, ours {statistics.median(seconds['ours']):.1f} s, naive "
              f"{statistics.median(seconds['naive']):.1f} s, ratio ours/naive {statistics.median(ratios):.2f} "
              f"({args.reps} rep(s))")
    print("| ResNet18 width | P | Psi size (MB) | one kernel, ours: extra peak MB (CPU s) | naive |")
    print("| --- | --- | --- | --- | --- |")
    for width in args.widths:
        params = count_parameters(setup(width)[0])
        psi_mb = EXAMPLES * CLASSES * params * 4 / 2**20
        naive = probe(width, "naive") if psi_mb <= args.naive_max_gb * 1024 else "skipped"
        print(f"| {width} | {params:,} | {psi_mb:.0f} | {probe(width, 'ours')} | {naive} |", flush=True)


if __name__ == "__main__":
    main()
