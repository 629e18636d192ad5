"""The runs behind ``datadiet demo``: MNIST-1D generated at any size, and one training set per arm, trained over
several seeds with every cost counted.

Each run trains a fresh cnn1d (initialization from ``torch.manual_seed(seed)``) with the same SGD recipe for its
number of epochs over its training set (paper 2's protocol: a smaller set takes fewer steps). An arm's cost is
the sum over its runs of each ``train`` call (training, a dynamic pruner's scoring passes, the final test) plus,
once, what its static score cost (the whole :func:`~datadiet.scores.score_runs` call, shared by the arm's runs).
Time is this process's CPU time on a CPU, so that other work on the machine does not count, and wall-clock on
an accelerator. Examples processed are counted apart: trained (forward and backward) and scored (forward only).
The seeds run in the outer loop, every arm once per seed, so that a machine's changing load spreads over all arms.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import nn

    from datadiet.data import Splits
    from datadiet.data.dataset import IndexedDataset
    from datadiet.dynamic import DynamicPruner
    from datadiet.training import TrainConfig

__all__ = ["Arm", "Cost", "Plan", "el2n_subset", "generate_mnist1d", "run_arms"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cost:
    """What a run costs: seconds of training and scoring (see :func:`_clock`), examples trained and scored."""

    seconds: float = 0.0
    trained: int = 0
    scored: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.seconds + other.seconds, self.trained + other.trained, self.scored + other.scored)


@dataclass(frozen=True)
class Plan:
    """One arm: how each seed's run is made.

    Attributes:
        name: the row's name in the table.
        epochs: passes over the arm's training set (None: the config's).
        subset: ``subset(seed)`` -> positions of a static training set (None: all examples).
        pruner: ``pruner(seed)`` -> a dynamic pruner choosing each epoch's examples (None: no pruner).
        charge: a cost paid once before training (a static score's runs), shared by the arm's runs.
    """

    name: str
    epochs: int | None = None
    subset: Callable[[int], np.ndarray] | None = None
    pruner: Callable[[int], DynamicPruner] | None = None
    charge: Cost = Cost()


@dataclass(frozen=True)
class Arm:
    """One arm's results: test accuracy (fraction) per seed, and the cost of all its runs with its scoring."""

    name: str
    accuracies: tuple[float, ...]
    total: Cost


def generate_mnist1d(train_size: int, test_size: int) -> Splits:
    """MNIST-1D from the ``mnist1d`` package's generator with its default arguments (seed 42) but as many
    examples as asked: ``(N, 1, 40)`` signals, the first ``train_size`` to train, the next ``test_size`` to
    test, normalized like :func:`datadiet.data.load_splits`. The global random states are left untouched."""
    from mnist1d.data import get_dataset_args, make_dataset

    from datadiet.data import load_arrays

    options = get_dataset_args()
    options.num_samples = 10 * math.ceil((train_size + test_size) / 10)  # the generator makes equal classes
    options.train_split = 1.0
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(options)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x, y, end = data["x"], data["y"], train_size + test_size
    return load_arrays(x[:train_size], y[:train_size], x[train_size:end], y[train_size:end], name="mnist1d",
                       classes=tuple(str(d) for d in range(10)))


def make_model(data: IndexedDataset) -> nn.Module:
    """A fresh cnn1d for ``data`` (seed it first)."""
    from datadiet.models import create_model

    return create_model("cnn1d", data.num_classes, data.in_channels, input_shape=data.input_shape)


def el2n_subset(data: IndexedDataset, config: TrainConfig, keep: float, *, at: int, runs: int,
                device: str | None) -> tuple[np.ndarray, Cost]:
    """The ``keep`` highest-EL2N positions (paper 1's rule) and what scoring cost: ``runs`` runs of ``config``'s
    schedule on all data stopped at epoch ``at``, then one EL2N pass each (un-augmented, evaluation mode)."""
    from datadiet.scores import score_runs
    from datadiet.selection import keep_highest
    from datadiet.training import trainer_fn

    clock = _clock(device)
    start = clock()
    train_fn = trainer_fn(data, config, device=device)
    scores = score_runs("el2n", data, lambda seed: make_model(data), train_fn, at=at, runs=runs,
                        device=train_fn.device, progress=False)
    cost = Cost(clock() - start, runs * at * len(data), runs * len(data))
    _log.info(f"EL2N at epoch {at}, averaged over {runs} runs: {cost.seconds:.1f} s")
    return keep_highest(scores.mean, keep), cost


def run_arms(plans: Sequence[Plan], splits: Splits, config: TrainConfig, seeds: Sequence[int],
             device: str | None) -> list[Arm]:
    """Train every plan's run for every seed (seeds outer); test accuracy at the end of each run."""
    results: list[list[tuple[float, Cost]]] = [[] for _ in plans]
    for seed in seeds:
        start = time.perf_counter()
        for plan, runs in zip(plans, results):
            runs.append(_run(plan, splits, config, seed, device))
        _log.info(f"seed {seed}: {len(plans)} runs, {time.perf_counter() - start:.1f} s")
    return [Arm(plan.name, tuple(acc for acc, _ in runs), sum((cost for _, cost in runs), plan.charge))
            for plan, runs in zip(plans, results)]


def _clock(device: str | None) -> Callable[[], float]:
    """CPU time of this process on a CPU, wall-clock elsewhere (the runs synchronize: they end on a test)."""
    from datadiet.training import parse_device

    return time.process_time if parse_device(device).type == "cpu" else time.perf_counter


def _run(plan: Plan, splits: Splits, config: TrainConfig, seed: int, device: str | None) -> tuple[float, Cost]:
    import torch

    from datadiet.training import DynamicPruningCallback, train

    epochs = plan.epochs or config.epochs
    assert epochs is not None  # the demo's configs count epochs
    clock = _clock(device)
    start = clock()
    callbacks = [DynamicPruningCallback(plan.pruner(seed), splits.train, device=device)] if plan.pruner else []
    torch.manual_seed(seed)
    result = train(make_model(splits.train), splits.train, replace(config, epochs=epochs, eval_every=epochs,
                   seed=seed), test_data=splits.test, subset=plan.subset(seed) if plan.subset else None,
                   callbacks=callbacks, device=device)
    m = result.metrics
    return float(m["test_accuracy"]), Cost(clock() - start, m["samples_backward"], m["scoring_forward"])
