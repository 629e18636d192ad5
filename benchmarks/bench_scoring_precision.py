"""A dynamic pruner's scoring pass in bfloat16 against float32: time and agreement of the rankings.

Command:  python benchmarks/bench_scoring_precision.py            # 10,000 Fashion-MNIST images, 3 repetitions
Runtime:  about a minute on one CPU core.
Question: would a lower-precision scoring pass make the loss-based policies cheaper without changing what they
          select? It pays only if it is faster and ranks the examples (almost) as float32 does.

small_cnn (half width, as in benchmarks/dynamic_time_to_accuracy.toml) is trained for 2 epochs on the first 10,000
training images; then ``datadiet.dynamic.scoring_pass`` scores them in float32 and with ``precision="bf16"`` (bfloat16
autocast), alternately, one thread, CPU time, after a warm-up. Agreement: Spearman's rho of the two loss vectors, and the
overlap of the top 30% and top 50% by loss (the sets UCB's uncertainty term favours at keep 0.3 and 0.5).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from scipy.stats import spearmanr

from common import FASHION_MNIST, cpu_time

from datadiet.data import load_splits
from datadiet.dynamic import scoring_pass
from datadiet.models import create_model
from datadiet.training import TrainConfig, train


def bf16_pass(model: torch.nn.Module, data) -> torch.Tensor:
    return scoring_pass(model, data, precision="bf16")


def top_overlap(a: np.ndarray, b: np.ndarray, keep: float) -> float:
    k = int(round(keep * len(a)))
    return len(np.intersect1d(np.argsort(-a)[:k], np.argsort(-b)[:k])) / k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_splits("fashion-mnist", FASHION_MNIST).train.subset(range(10_000))
    torch.manual_seed(0)
    model = create_model("small_cnn", data.num_classes, data.in_channels, input_shape=data.input_shape, width=0.5)
    train(model, data, TrainConfig(epochs=2, batch_size=128, lr=0.1, progress=False), device="cpu")
    full, half = scoring_pass(model, data).numpy(), bf16_pass(model, data).numpy()
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(args.reps):
        times["float32"].append(cpu_time(lambda: scoring_pass(model, data)))
        times["bfloat16"].append(cpu_time(lambda: bf16_pass(model, data)))
    f32, b16 = statistics.median(times["float32"]), statistics.median(times["bfloat16"])
    rho = spearmanr(full, half).statistic
    print(f"{len(data):,} examples, small_cnn width 0.5 after 2 epochs, 1 thread, median of {args.reps}")
    print(f"float32 pass {f32:.2f} s CPU, bfloat16 pass {b16:.2f} s CPU: bfloat16 / float32 = {b16 / f32:.2f}")
    print(f"Spearman rho {rho:.4f}; top-30% overlap {top_overlap(full, half, 0.3):.3f}, "
          f"top-50% overlap {top_overlap(full, half, 0.5):.3f}")


if __name__ == "__main__":
    main()
