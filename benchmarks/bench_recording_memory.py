"""Memory of one training-dynamics recording: N = 60,000 examples, 30 epochs, 10 classes, with and without the
probability vectors.

Command:  python benchmarks/bench_recording_memory.py
          python benchmarks/bench_recording_memory.py --examples 10000 --epochs 5     # a quick look
Runtime:  about 1 minute on 2 CPU cores (each mode records 30 epochs of 469 batches in its own process).
Expected: the extra peak resident memory of recording is the stated footprint, 6.125 bytes per example per epoch
          (11.0 MB) without probabilities and 26.125 (47.0 MB) with 10-class probabilities, plus 8 bytes per
          example for the labels; ``compute()`` adds a copy of the same size while it builds the recording.

Each mode runs in a fresh single-thread subprocess: a small recorder is warmed up (kernels, allocator), then the
peak resident size (``VmHWM``) is reset through ``/proc/self/clear_refs`` and the figures are peaks minus the
resident size before recording (Linux only): after feeding every epoch as batches of 128 random logits to
``TrainingDynamics.update`` (one batch's logits alive at a time), and after ``compute()``. The recorder's own tensors
(``state_dict`` bytes), the saved ``.npz`` size and the CPU time of the updates are printed too.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import allocator

from datadiet.scores.recording import TrainingDynamics

BATCH, CLASSES = 128, 10


def feed(dynamics: TrainingDynamics, examples: int, epochs: int, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (examples,), generator=g)
    for epoch in range(epochs):
        for positions in torch.randperm(examples, generator=g).split(BATCH):
            dynamics.update(positions, 3 * torch.randn(len(positions), CLASSES, generator=g), labels[positions], epoch)


def memory_probe(examples: int, epochs: int, keep: bool) -> None:
    torch.set_num_threads(1)
    feed(TrainingDynamics(1_000, epochs=2, keep_probabilities=keep), 1_000, 2)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size restarts from the current one
    before, cpu = _status_kb("VmRSS"), time.process_time()
    dynamics = TrainingDynamics(examples, epochs=epochs, keep_probabilities=keep)
    feed(dynamics, examples, epochs)
    cpu = time.process_time() - cpu
    recorded = _status_kb("VmHWM") - before
    recording = dynamics.compute()
    computed = _status_kb("VmHWM") - before
    state = sum(t.numel() * t.element_size() for t in dynamics.state_dict().values())
    with tempfile.TemporaryDirectory() as folder:
        size = recording.save(Path(folder) / "recording.npz").stat().st_size
    print(json.dumps({"recorded_mb": recorded / 1024, "computed_mb": computed / 1024, "state_mb": state / 2**20,
                      "file_mb": size / 2**20, "cpu_s": cpu}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status``, in KiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def probe(examples: int, epochs: int, keep: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--memory-probe", str(examples), str(epochs), str(int(keep))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--memory-probe", nargs=3, type=int, metavar=("N", "EPOCHS", "KEEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe[0], args.memory_probe[1], bool(args.memory_probe[2]))
        return
    n, e = args.examples, args.epochs
    print(f"torch {torch.__version__}, 1 thread, allocator {allocator()}; N = {n:,}, {e} epochs, {CLASSES} classes, "
          f"batches of {BATCH}")
    print("| probabilities | stated MB | recorder tensors MB | extra peak recording MB | extra peak with compute() MB "
          "| .npz MB | update CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for keep in (False, True):
        stated = (n * e * (6.125 + (2 * CLASSES if keep else 0)) + 8 * n) / 1e6
        r = probe(n, e, keep)
        print(f"| {'kept' if keep else 'not kept'} | {stated:.1f} | {r['state_mb'] * 2**20 / 1e6:.1f} | "
              f"{r['recorded_mb'] * 2**20 / 1e6:.1f} | {r['computed_mb'] * 2**20 / 1e6:.1f} | "
              f"{r['file_mb'] * 2**20 / 1e6:.1f} | {r['cpu_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
