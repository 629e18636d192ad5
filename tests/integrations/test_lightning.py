"""Dynamic pruning and recording in a Lightning ``Trainer.fit``, against datadiet's own trainer on Fashion-MNIST.

Same data order in both: each run is given the positions of an identically built, identically seeded pruner (the
Lightning fit as its ``DataLoader``'s sampler, our trainer through its ``DynamicPruningCallback``), and the same
network initialisation and SGD settings. With a constant learning rate the two runs are then the same
computation, so selections, samples, accuracy and the recorded forgetting and dynamics are equal, not just close.
"""

from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

pytest.importorskip("lightning")

from datadiet.callbacks import AccumulatorCallback as OurAccumulatorCallback  # noqa: E402
from datadiet.data import WithPositions  # noqa: E402
from datadiet.dynamic import DynamicPruner  # noqa: E402
from datadiet.integrations.lightning import AccumulatorCallback, DynamicPruningCallback  # noqa: E402
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting  # noqa: E402
from datadiet.scores.recording import TrainingDynamics, feed_dynamics  # noqa: E402
from datadiet.scores.dynamics import el2n_at  # noqa: E402
from datadiet.training import TrainConfig, train  # noqa: E402
from datadiet.training.dynamic_pruning import DynamicPruningCallback as OurPruningCallback  # noqa: E402
from lightning_parts import LR, Classifier, accuracy, fashion_subset, make_net, quiet_trainer, tensors  # noqa: E402

EPOCHS, BATCH = 4, 100
SAMPLES = 3000 + 3 * 900  # a full warm-up epoch, then 30% of 3,000 in each of 3 epochs


@pytest.fixture
def fashion(fashion_dir):
    return cached_subset(str(fashion_dir))


@functools.lru_cache(maxsize=1)
def cached_subset(path: str):
    return fashion_subset(Path(path))


def make_pruner(data, seed: int = 0) -> DynamicPruner:
    return DynamicPruner(len(data), policy="ucb", keep=0.3, period=1, epochs=EPOCHS, labels=data.y, seed=seed)


def fit_lightning(train_set, seed: int, source: str, *, one_cycle: bool = False):
    pruner = make_pruner(train_set, seed)
    loader = DataLoader(WithPositions(tensors(train_set)), sampler=pruner, batch_size=BATCH)
    pruning = DynamicPruningCallback(pruner, score_source=source, score_data=tensors(train_set))
    counter = ForgettingCounter(len(train_set))
    dynamics = TrainingDynamics(len(train_set), EPOCHS, keep_probabilities=True)
    module = Classifier(make_net(seed), pruner if one_cycle else None, BATCH)
    trainer = quiet_trainer(EPOCHS, [pruning, AccumulatorCallback(counter, feed_forgetting),
                                     AccumulatorCallback(dynamics, feed_dynamics)])
    trainer.fit(module, train_dataloaders=loader)
    return module.net, pruner, pruning, counter, dynamics, trainer


def fit_ours(train_set, seed: int, source: str, config: TrainConfig):
    pruner = make_pruner(train_set, seed)
    counter = ForgettingCounter(len(train_set))
    dynamics = TrainingDynamics(len(train_set), EPOCHS, keep_probabilities=True)
    net = make_net(seed)
    result = train(net, train_set, config, device="cpu", callbacks=[
        OurPruningCallback(pruner, train_set, score_source=source), OurAccumulatorCallback(counter, feed_forgetting),
        OurAccumulatorCallback(dynamics, feed_dynamics)])
    return net, pruner, result, counter, dynamics


@pytest.mark.parametrize("source", ["batch", "pass", "stale"])
def test_pruned_fit_is_our_trainers_run(fashion, source):
    train_set, test_set = fashion
    constant = TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=LR, lr_milestones=(), precision="fp32",
                           augment="none", progress=False)
    net, pruner, pruning, counter, dynamics, trainer = fit_lightning(train_set, 0, source)
    our_net, our_pruner, result, our_counter, our_dynamics = fit_ours(train_set, 0, source, constant)
    assert torch.equal(pruner.counts, our_pruner.counts) and torch.equal(pruner.selection, our_pruner.selection)
    assert pruning.samples_trained == result.metrics["samples_forward"] == SAMPLES
    passes = {"pass": 3 * 3000, "batch": 0, "stale": 2 * (3000 - 900)}  # stale: none right after the warm-up
    assert pruning.scoring_forward == result.metrics["scoring_forward"] == passes[source]
    assert accuracy(net, test_set) == accuracy(our_net, test_set) > 0.6
    np.testing.assert_array_equal(counter.compute(), our_counter.compute())
    assert np.isinf(counter.compute()).any() and (counter.compute() > 0).any()  # a non-trivial count
    recorded, ours = dynamics.compute(), our_dynamics.compute()
    np.testing.assert_array_equal(recorded.correct, ours.correct)
    np.testing.assert_array_equal(el2n_at(recorded, 0), el2n_at(ours, 0))


def test_one_cycle_over_the_pruners_steps_matches_our_trainer(fashion):
    """A user's schedule (OneCycleLR over ``pruner.total_steps``) against our trainer's step decay, seeds 0-2:
    the same samples, every scheduled step taken, mean accuracies within 3 points (seed spread here: ~1-2)."""
    train_set, test_set = fashion
    ours_config = TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=LR, precision="fp32", augment="none",
                              progress=False)
    ours, theirs = [], []
    for seed in range(3):
        net, pruner, pruning, _, _, trainer = fit_lightning(train_set, seed, "batch", one_cycle=True)
        schedule = trainer.lr_scheduler_configs[0].scheduler
        assert trainer.global_step == schedule.last_epoch == pruner.total_steps(BATCH) == 30 + 3 * 9
        our_net, _, result, _, _ = fit_ours(train_set, seed, "batch", ours_config)
        assert pruning.samples_trained == result.metrics["samples_forward"] == SAMPLES
        theirs.append(accuracy(net, test_set))
        ours.append(accuracy(our_net, test_set))
    assert min(theirs + ours) > 0.7
    assert abs(np.mean(theirs) - np.mean(ours)) < 0.03, (theirs, ours)


def test_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightning", None)
    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)
    monkeypatch.delitem(sys.modules, "datadiet.integrations.lightning")
    with pytest.raises(ImportError, match=r'pip install "datadiet\[lightning\]"'):
        importlib.import_module("datadiet.integrations.lightning")


def blob_fit(callback, loader_of, *, epochs: int = 2, step=None, **options) -> None:
    """Fit a tiny classifier on 40 Gaussian blobs with ``callback`` and the loader ``loader_of(dataset)``."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(40) % 2
    dataset = torch.utils.data.TensorDataset(torch.randn(40, 784, generator=g) + y[:, None], y)
    module = Classifier(make_net(0))
    if step is not None:
        module.training_step = step.__get__(module)
    quiet_trainer(epochs, [callback], **options).fit(module, train_dataloaders=loader_of(dataset))


def test_misconfigured_fits_are_refused_with_the_fix():
    pruner = DynamicPruner(40, policy="random", keep=0.5, period=1, epochs=2, seed=0, class_balanced=False)
    pruned = lambda ds: DataLoader(WithPositions(ds), sampler=pruner, batch_size=8)  # noqa: E731
    with pytest.raises(ValueError, match="sampler is not this pruner"):
        blob_fit(DynamicPruningCallback(pruner), lambda ds: DataLoader(WithPositions(ds), shuffle=True, batch_size=8))
    with pytest.raises(ValueError, match="reload_dataloaders_every_n_epochs=1"):
        blob_fit(DynamicPruningCallback(pruner), pruned, reload_dataloaders_every_n_epochs=0)
    with pytest.raises(ValueError, match=r"epochs=2 but Trainer\(max_epochs=3\)"):
        blob_fit(DynamicPruningCallback(pruner), pruned, epochs=3)

    def without_positions(self, batch, batch_idx):
        x, y = batch
        losses = torch.nn.functional.cross_entropy(self(x), y, reduction="none")
        return {"loss": losses.mean(), "losses": losses.detach()}

    with pytest.raises(ValueError, match="no positions: build the train DataLoader on WithPositions"):
        blob_fit(DynamicPruningCallback(pruner), lambda ds: DataLoader(ds, sampler=pruner, batch_size=8),
                 step=without_positions)

    def loss_only(self, batch, batch_idx):
        positions, x, y = batch
        return torch.nn.functional.cross_entropy(self(x), y)

    fresh = DynamicPruner(40, policy="uncertainty", keep=0.5, period=1, epochs=2, seed=0, class_balanced=False)
    with pytest.raises(ValueError, match='return per-example losses too'):
        blob_fit(DynamicPruningCallback(fresh, score_source="batch"),
                 lambda ds: DataLoader(WithPositions(ds), sampler=fresh, batch_size=8), step=loss_only)
    with pytest.raises(ValueError, match="score_data="):
        DynamicPruningCallback(fresh)


def test_the_scoring_pass_runs_in_the_precision_given():
    """``score_precision="bf16"``: the checkpoint's losses are those of a bfloat16 scoring pass, not float32's;
    an unknown precision is refused when the callback is built."""
    from types import SimpleNamespace

    from torch.utils.data import TensorDataset

    from datadiet.dynamic import scoring_pass

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(200, 8), torch.randint(0, 3, (200,)))
    net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    pruner = DynamicPruner(200, policy="ucb", keep=0.5, period=1, epochs=2, warmup_epochs=0, class_balanced=False)
    callback = DynamicPruningCallback(pruner, score_source="pass", score_data=data, score_precision="bf16")
    callback.on_fit_start(SimpleNamespace(current_epoch=0), net)
    assert torch.equal(pruner.tracker.latest, scoring_pass(net, data, precision="bf16"))
    assert not torch.equal(pruner.tracker.latest, scoring_pass(net, data))
    with pytest.raises(ValueError, match="unknown score_precision 'half'"):
        DynamicPruningCallback(pruner, score_source="pass", score_data=data, score_precision="half")
