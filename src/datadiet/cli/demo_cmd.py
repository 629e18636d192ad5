"""``datadiet demo``: the whole method on data generated locally, in a few minutes on a laptop CPU.

On MNIST-1D (generated on the spot, no download) with a small 1-D CNN: score every training example with EL2N
early in training (averaged over runs), keep the highest-scoring half (the paper's rule) or the lowest-scoring
half, retrain from scratch for as many optimizer steps as the full-data run, and compare with a random half and
with full data, over several seeds.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from datadiet.cli.options import device_name

if TYPE_CHECKING:
    from datadiet.data.dataset import IndexedDataset

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="score, prune and retrain on MNIST-1D generated locally; print a table",
                       description=__doc__)
    p.add_argument("--keep", type=float, default=0.5, help="fraction of training examples to keep")
    p.add_argument("--epochs", type=int, default=30, help="length of the full-data run, in epochs")
    p.add_argument("--score-epoch", type=int, default=3, help="epoch at which EL2N is computed")
    p.add_argument("--score-runs", type=int, default=3, help="runs EL2N is averaged over")
    p.add_argument("--seeds", type=int, default=3, help="seeds of each retraining")
    p.add_argument("--device", type=device_name, help="cpu, cuda, ... (default: CUDA when present)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from datadiet.data import load_splits
    from datadiet.scores import score_runs
    from datadiet.selection import keep_highest, keep_lowest, random_subset
    from datadiet.training import TrainConfig, default_device, trainer_fn

    if not 0 < args.keep <= 1 or min(args.epochs, args.score_epoch, args.score_runs, args.seeds) < 1:
        raise ValueError("need 0 < --keep <= 1 and positive --epochs, --score-epoch, --score-runs, --seeds")
    if torch.device(args.device or default_device()).type == "cpu":
        torch.set_num_threads(1)  # cnn1d is tiny: extra threads only wait on each other, badly so on a busy CPU
    splits = load_splits("mnist1d")
    train_data, test_data = splits.train, splits.test
    steps = args.epochs * math.ceil(len(train_data) / 128)
    config = TrainConfig(steps=steps, progress=False)
    print(f"MNIST-1D: {len(train_data)} training / {len(test_data)} test examples; cnn1d; {steps} SGD steps "
          f"({args.epochs} full-data epochs) for every run, {args.seeds} seeds\n")
    start = time.perf_counter()
    train_fn = trainer_fn(train_data, TrainConfig(epochs=args.epochs, progress=False), device=args.device)
    scores = score_runs("el2n", train_data, _model_factory(train_data), train_fn, at=args.score_epoch,
                        runs=args.score_runs, device=train_fn.device, progress=True)
    scoring = time.perf_counter() - start
    print(f"EL2N at epoch {args.score_epoch}, averaged over {args.score_runs} runs: {scoring:.1f} s\n")
    subsets = {
        "full data": None,
        f"random {args.keep:.0%}": lambda seed: random_subset(len(train_data), args.keep, seed=seed),
        f"EL2N top {args.keep:.0%}": lambda seed: keep_highest(scores.mean, args.keep),
        f"EL2N bottom {args.keep:.0%}": lambda seed: keep_lowest(scores.mean, args.keep),
    }
    rows = [(name, *_retrain(train_data, test_data, config, pick, args)) for name, pick in subsets.items()]
    _print_table(rows, scoring)
    return 0


def _model_factory(data: IndexedDataset):
    from datadiet.models import create_model

    return lambda seed: create_model("cnn1d", data.num_classes, data.in_channels, input_shape=data.input_shape)


def _retrain(train_data, test_data, config, pick, args) -> tuple[int, list[float], float]:
    """Train one network per seed on the chosen subset; returns (size, accuracies, mean seconds)."""
    import numpy as np
    import torch

    from datadiet.training import train

    accuracies, seconds, size = [], [], len(train_data)
    for seed in range(args.seeds):
        subset = pick(seed) if pick is not None else None
        size = len(subset) if subset is not None else len(train_data)
        torch.manual_seed(seed)
        model = _model_factory(train_data)(seed)
        result = train(model, train_data, replace(config, seed=seed), test_data=test_data,
                       subset=subset, device=args.device)
        accuracies.append(result.metrics["test_accuracy"])
        seconds.append(result.metrics["train_seconds"])
    return size, accuracies, float(np.mean(seconds))


def _print_table(rows, scoring_seconds: float) -> None:
    import numpy as np

    print(f"{'training set':<17}{'examples':>9}  {'test accuracy (mean ± sd, min-max)':<36}{'train s':>8}")
    for name, size, acc, seconds in rows:
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        spread = f"{100 * np.mean(acc):.2f} ± {100 * sd:.2f}  ({100 * min(acc):.2f}-{100 * max(acc):.2f})"
        print(f"{name:<17}{size:>9}  {spread:<36}{seconds:>8.1f}")
    print(f"\nEL2N scoring cost: {scoring_seconds:.1f} s (paid once, shared by every pruned run)")
