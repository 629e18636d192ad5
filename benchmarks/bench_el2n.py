"""EL2N over the whole Fashion-MNIST training set against one training epoch on it (small_cnn, batch 128).

Command:  python benchmarks/bench_el2n.py            # 60,000 examples, 3 repetitions
          python benchmarks/bench_el2n.py --quick    # 10,000 examples, 2 repetitions
          python benchmarks/bench_el2n.py --quick --batch-sizes 128 256 512 1024
Runtime:  about 5 minutes on 2 CPU cores (--quick: about 1 minute; each extra batch size about 20 s more).
Expected: an EL2N pass costs at most 0.35x a training epoch.

The epoch is a bare loop (train mode, forward, mean cross-entropy, backward, SGD step with Nesterov momentum and
weight decay) over batches of 128 cut in advance; the EL2N pass is ``datadiet.scores.el2n`` with its defaults
(evaluation mode, inference mode, the device's default batch: 128 on the CPU). ``--batch-sizes`` also times
the pass at each given batch size, which is how that default was chosen. All run alternately in one process on
one thread, after a warm-up; each figure is the median over repetitions of the ratio of CPU times.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from common import FASHION_MNIST, allocator, bare_epoch, cpu_time, premade_batches

from datadiet.data import load_splits
from datadiet.models import create_model
from datadiet.scores import el2n

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 examples, 2 repetitions")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[], help="also time the pass at these")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_splits("fashion-mnist", FASHION_MNIST).train
    if args.quick:
        data = data.subset(range(10_000))
    reps = 2 if args.quick else args.reps
    torch.manual_seed(0)
    model = create_model("small_cnn", data.num_classes, data.in_channels, input_shape=data.input_shape)
    batches = premade_batches(data)
    bare_epoch(model, batches[:5])
    el2n(model, data.subset(range(2048)))
    passes = {"default": lambda: el2n(model, data)}
    passes.update({str(b): (lambda b=b: el2n(model, data, batch_size=b)) for b in args.batch_sizes})
    epochs, ratios = [], {name: [] for name in passes}
    for _ in range(reps):
        epochs.append(cpu_time(lambda: bare_epoch(model, batches)))
        for name, run in passes.items():
            ratios[name].append(cpu_time(run) / epochs[-1])
    print(f"torch {torch.__version__}, 1 thread, CPU time, {reps} repetitions, allocator {allocator()}")
    print(f"training epoch over {len(data)} examples: {statistics.median(epochs):.1f} s (median)")
    print("| EL2N pass batch | pass / epoch (median) | range |")
    print("| --- | --- | --- |")
    for name, values in ratios.items():
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f}-{max(values):.3f} |")


if __name__ == "__main__":
    main()
