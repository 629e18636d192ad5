"""``datadiet demo``: pruning that pays, static and dynamic, on data generated locally (a few minutes on a CPU).

MNIST-1D (generated on the spot, no download; 10,000 training signals by default) and a small 1-D CNN. Every
training set is trained for the same number of epochs with the same SGD recipe, so a smaller set costs less,
and each pays for its own scoring:

- full data, and full data for keep x the epochs (what the same cost buys without pruning);
- static: a random subset, and the highest-EL2N examples (paper 1's rule; EL2N from short runs on all data,
  averaged over runs, their cost paid once by the arm);
- dynamic: a fresh random subset, and epsilon-greedy on the loss (paper 2: 1 - eps of the budget by the highest
  EMA of the current loss, eps at random; the library's defaults: eps 0.1, EMA weight 0.8, one warm-up epoch on
  all data, class-balanced selection, a scoring pass over all examples at each re-selection), each re-selected
  every --period epochs.

Over several seeds the table gives the test accuracy (mean ± sd) and what each arm cost in all, scoring
included: examples trained (forward and backward) and scored (forward only), and time (CPU time on a CPU,
wall-clock on an accelerator), each as a ratio to full data's. A one-line reading names the pruned sets that
reach full data's accuracy (mean at least full data's mean minus its sd) in less time.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
from typing import TYPE_CHECKING

from datadiet.cli.options import device_name, positive_int

if TYPE_CHECKING:
    from datadiet.cli.demo_runs import Arm, Plan
    from datadiet.data import Splits
    from datadiet.training import TrainConfig

__all__ = ["add_parser", "run"]


_OPTIONS = (
    ("--train-size", positive_int, 10_000, "training examples to generate"),
    ("--test-size", positive_int, 5_000, "test examples to generate"),
    ("--keep", float, 0.8, "fraction of training examples kept, in (0, 1)"),
    ("--epochs", positive_int, 30, "epochs over each training set"),
    ("--period", positive_int, 3, "epochs between dynamic re-selections"),
    ("--score-epoch", positive_int, 3, "epoch at which EL2N is computed"),
    ("--score-runs", positive_int, 2, "runs EL2N is averaged over"),
    ("--seeds", positive_int, 3, "seeds of each arm"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="prune statically and dynamically on MNIST-1D generated locally; print a table",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag, kind, default, text in _OPTIONS:
        p.add_argument(flag, type=kind, default=default, help=f"{text} (default %(default)s)")
    p.add_argument("--device", type=device_name, help="cpu, cuda, ... (default: CUDA when present)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from datadiet.cli.demo_runs import generate_mnist1d, run_arms
    from datadiet.training import TrainConfig, default_device

    _check(args)
    if torch.device(args.device or default_device()).type == "cpu":
        torch.set_num_threads(1)  # cnn1d is tiny: extra threads only wait on each other, badly so on a busy CPU
    importlib.import_module("torch._dynamo")  # PyTorch loads it with the first optimizer (seconds): no arm's cost
    splits = generate_mnist1d(args.train_size, args.test_size)
    config = TrainConfig(epochs=args.epochs, progress=False)
    print(f"MNIST-1D (generated): {len(splits.train)} training / {len(splits.test)} test examples; cnn1d, SGD "
          f"lr {config.lr:g}, {args.epochs} epochs over each training set; keep {args.keep:.0%}; {args.seeds} seeds\n",
          flush=True)
    arms = run_arms(_plans(args, splits, config), splits, config, range(args.seeds), args.device)
    _print_table(arms)
    print(f"\nTest accuracy after the last epoch. Cost of each arm's {args.seeds} runs with its scoring, as a ratio "
          f"to full data's: examples trained (forward and backward) and scored (forward only), and time (CPU time on "
          f"a CPU). EL2N ({args.score_runs} runs of {args.score_epoch} epochs on all data) is paid once by its arm; "
          f"the dynamic pruners train one epoch on all data, then re-select every {args.period} epochs.")
    print(_reading(arms))
    return 0


def _check(args: argparse.Namespace) -> None:
    """Refuse options that cannot make a demo, before any work."""
    if not 0 < args.keep < 1:
        raise ValueError(f"--keep must be a fraction in (0, 1), got {args.keep}")
    if args.score_epoch > args.epochs:
        raise ValueError(f"--score-epoch ({args.score_epoch}) must be at most --epochs ({args.epochs})")
    if round(args.keep * args.train_size) < 10:
        raise ValueError(f"--keep x --train-size must keep at least 10 examples (one per class), got "
                         f"{args.keep} x {args.train_size}")


def _plans(args: argparse.Namespace, splits: Splits, config: TrainConfig) -> list[Plan]:
    """The arms, in the table's order; EL2N is scored here, before any arm trains."""
    from datadiet.cli.demo_runs import Plan, el2n_subset
    from datadiet.dynamic import DynamicPruner
    from datadiet.selection import random_subset

    data, keep, epochs = splits.train, args.keep, args.epochs
    top, scoring = el2n_subset(data, config, keep, at=args.score_epoch, runs=args.score_runs, device=args.device)

    def dynamic(policy: str):
        return lambda seed: DynamicPruner(len(data), policy=policy, keep=keep, period=args.period, seed=seed,
                                          epochs=epochs, labels=data.y.cpu())

    short = max(1, round(keep * epochs))
    return [
        Plan("full data"),
        Plan(f"full data ({short} epochs)", epochs=short),
        Plan(f"random {keep:.0%} (static)", subset=lambda seed: random_subset(len(data), keep, seed=seed)),
        Plan(f"EL2N top {keep:.0%} (static)", subset=lambda seed: top, charge=scoring),
        Plan(f"random {keep:.0%} (dynamic)", pruner=dynamic("random")),
        Plan(f"ε-greedy {keep:.0%} (dynamic)", pruner=dynamic("egreedy")),
    ]


def _mean_sd(values: tuple[float, ...]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _ratios(arm: Arm, full: Arm) -> tuple[float, float, float]:
    """Examples trained and scored (both over full data's examples trained), and time, each arm over full data."""
    base = full.total
    return arm.total.trained / base.trained, arm.total.scored / base.trained, arm.total.seconds / base.seconds


def _print_table(arms: list[Arm]) -> None:
    print(f"{'training set':<26}{'test accuracy':>15}{'trained':>9}{'scored':>8}{'time':>7}")
    for arm in arms:
        mean, sd = _mean_sd(arm.accuracies)
        trained, scored, seconds = _ratios(arm, arms[0])
        print(f"{arm.name:<26}{100 * mean:>7.2f} ± {100 * sd:<4.2f}{trained:>8.2f}x{scored:>7.2f}x{seconds:>6.2f}x")


def _reading(arms: list[Arm]) -> str:
    """One line: which pruned arms reach full data's accuracy (mean at least full data's mean minus its sd) in less
    time, the others' accuracy and time, and what full data trained on as many examples as a pruned set reaches."""
    full, short, pruned = arms[0], arms[1], arms[2:]
    mean, sd = _mean_sd(full.accuracies)

    def accuracy(arm: Arm) -> float:
        return 100 * _mean_sd(arm.accuracies)[0]

    reached = [a for a in pruned if accuracy(a) >= 100 * (mean - sd) and _ratios(a, full)[2] < 1]
    others = [a for a in pruned if a not in reached]

    def listed(group: list[Arm]) -> str:
        return ", ".join(f"{a.name} {accuracy(a):.2f} at {_ratios(a, full)[2]:.2f}x" for a in group)

    parts = [f"Reading: full data {100 * mean:.2f} ± {100 * sd:.2f}"]
    parts.append(f"within one sd in less time: {listed(reached)}" if reached
                 else "no pruned set is within one sd in less time")
    parts += [f"the others: {listed(others)}"] if others else []
    within = "within one sd" if accuracy(short) >= 100 * (mean - sd) else "short of it"
    parts.append(f"{short.name}, as many examples as a pruned set: {accuracy(short):.2f}, {within}")
    return "; ".join(parts) + "."
