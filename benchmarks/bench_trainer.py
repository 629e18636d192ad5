"""Training throughput of datadiet's trainer against a bare loop over pre-made batches.

The bare loop does only forward, backward and the SGD step on batches cut in advance; our trainer also draws
the epoch's permutation, gathers each batch from the in-memory tensors, computes per-example losses, feeds
callbacks and keeps running metrics. Both run alternately in one process, one thread, CPU time; the figure is
the median ratio over repetitions. Goal: at most 1.10x.

    python benchmarks/bench_trainer.py            # small CNN on Fashion-MNIST + ResNet18 (width 0.25) on 3x32x32
    python benchmarks/bench_trainer.py --quick
"""

from __future__ import annotations

import argparse
import statistics

import torch

from common import FASHION_MNIST, allocator, bare_epoch, cpu_time, premade_batches

from datadiet.data import load_splits
from datadiet.data.dataset import IndexedDataset
from datadiet.models import create_model
from datadiet.training import TrainConfig, train


def trainer_epoch(model: torch.nn.Module, data: IndexedDataset) -> None:
    config = TrainConfig(epochs=1, lr=0.01, progress=False, augment="none")
    train(model, data, config, device="cpu")


def compare(name: str, make_model, data: IndexedDataset, reps: int) -> None:
    batches = premade_batches(data)
    model_a, model_b = make_model(), make_model()
    bare_epoch(model_a, batches[:3])
    trainer_epoch(model_b, data.subset(range(384)))
    ratios, bare_times = [], []
    for _ in range(reps):
        t_bare = cpu_time(lambda: bare_epoch(model_a, batches))
        t_ours = cpu_time(lambda: trainer_epoch(model_b, data))
        ratios.append(t_ours / t_bare)
        bare_times.append(t_bare)
    print(f"| {name} | {len(data)} | {statistics.median(bare_times):.2f} | {statistics.median(ratios):.3f} "
          f"| {min(ratios):.3f}-{max(ratios):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples and repetitions")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    reps = 3 if args.quick else args.reps
    n_small, n_resnet = (5120, 1280) if args.quick else (20480, 5120)
    fashion = load_splits("fashion-mnist", FASHION_MNIST).train.subset(range(n_small))
    g = torch.Generator().manual_seed(0)
    cifar_like = IndexedDataset(x=torch.randn(n_resnet, 3, 32, 32, generator=g), y=torch.arange(n_resnet) % 10,
                                index=torch.arange(n_resnet), num_classes=10, name="random-3x32x32")
    print(f"torch {torch.__version__}, 1 thread, CPU time, {reps} repetitions, batch 128, allocator {allocator()}")
    print("| model | examples | bare epoch (s) | ours / bare (median) | range |")
    print("| --- | --- | --- | --- | --- |")
    compare("small_cnn, Fashion-MNIST", lambda: _model("small_cnn", fashion), fashion, reps)
    compare("resnet18 width 0.25, 3x32x32", lambda: _model("resnet18", cifar_like, 0.25), cifar_like, reps)


def _model(name: str, data: IndexedDataset, width: float = 1.0) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, data.num_classes, data.in_channels, width=width, input_shape=data.input_shape)


if __name__ == "__main__":
    main()
