"""The dynamic pruner trains data as users bring it, in a plain loop fed by the training batches' losses.

``DataLoader(WithPositions(dataset), sampler=pruner)`` over a ``TensorDataset`` (MLP), PNG files opened per item
with 2 workers (CNN with BatchNorm) and a Hugging Face dataset of token ids (BERT, dict batches): every epoch
trains exactly ``pruner.epoch_positions()``, each batch's positions name the examples it holds, the selection is
class-balanced on ``labels_of(dataset)``, and the loss goes down. An LR schedule sized by ``total_steps`` ends
exactly with the training.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from datadiet.data import WithPositions, labels_of
from datadiet.dynamic import DynamicPruner
from integrations_data import (
    PngFolder, TinyCNN, blob_dataset, examples_of, labels_in_order, make_mlp, tiny_bert, token_dataset,
    write_png_tree,
)
from reference import loop_example_losses, naive_largest_remainder

EPOCHS, KEEP, BATCH = 3, 0.5, 8


@pytest.fixture(scope="module")
def png_folder(tmp_path_factory) -> PngFolder:
    return PngFolder(write_png_tree(tmp_path_factory.mktemp("png")))


@pytest.fixture(scope="module")
def tokens() -> Any:
    pytest.importorskip("datasets")
    pytest.importorskip("transformers")
    return token_dataset()


def forward(model: nn.Module, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(positions, logits, labels)`` of a batch from ``WithPositions``: a tuple, or a dict (BERT)."""
    if isinstance(batch, dict):
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return batch["position"], out.logits, batch["label"]
    positions, x, y = batch
    return positions, model(x), y


def train_with_pruner(model: nn.Module, dataset: Dataset, lr: float, num_workers: int = 0) -> DynamicPruner:
    """Train ``EPOCHS`` epochs with UCB pruning (keep half, reselect every epoch after a full warm-up epoch),
    checking every epoch's positions, labels and class balance against the dataset read one item at a time."""
    labels = labels_of(dataset)
    truth = labels_in_order(dataset)
    assert torch.equal(labels, truth)
    pruner = DynamicPruner(len(dataset), policy="ucb", keep=KEEP, period=1, epochs=EPOCHS, labels=labels)
    loader = DataLoader(WithPositions(dataset), sampler=pruner, batch_size=BATCH, num_workers=num_workers)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    sizes = collections.Counter(truth.tolist())
    for epoch in range(EPOCHS):
        pruner.set_epoch(epoch)
        model.train()
        seen = []
        for batch in loader:
            positions, logits, y = forward(model, batch)
            assert torch.equal(y, truth[positions])
            losses = F.cross_entropy(logits, y, reduction="none")
            optimizer.zero_grad()
            losses.mean().backward()
            optimizer.step()
            pruner.update(positions, losses.detach())
            seen.append(positions)
        seen = torch.cat(seen)
        planned = pruner.epoch_positions()
        k = len(dataset) if epoch == 0 else math.floor(KEEP * len(dataset) + 0.5)
        assert len(seen) == len(planned) == pruner.epoch_length(epoch) == k
        assert set(seen.tolist()) == set(planned.tolist())
        per_class = collections.Counter(truth[seen].tolist())
        budgets = naive_largest_remainder([sizes[c] for c in sorted(sizes)], k)
        assert [per_class[c] for c in sorted(sizes)] == budgets
    assert pruner.num_checkpoints == EPOCHS - 1
    return pruner


def full_loss(model: nn.Module, dataset: Dataset) -> float:
    losses = loop_example_losses(model, examples_of(dataset))
    return sum(losses) / len(losses)


def test_tensor_dataset():
    dataset, model = blob_dataset(), make_mlp()
    before = full_loss(model, dataset)
    train_with_pruner(model, dataset, lr=0.02)
    assert full_loss(model, dataset) < 0.7 * before


def test_png_folder_with_two_workers(png_folder):
    model = TinyCNN()
    before = full_loss(model, png_folder)
    train_with_pruner(model, png_folder, lr=0.02, num_workers=2)
    assert full_loss(model, png_folder) < 0.7 * before


def test_hugging_face_tokens_and_bert(tokens):
    train_with_pruner(tiny_bert(), tokens, lr=1e-3)


def test_labels_of_without_targets_reads_the_data(png_folder):
    """A dataset that states no labels (a Subset has no ``targets``) is read once; a DataLoader over it too."""
    subset = Subset(png_folder, range(5, 50))
    assert torch.equal(labels_of(subset), labels_in_order(subset))
    assert torch.equal(labels_of(DataLoader(subset, batch_size=BATCH, num_workers=2)), labels_in_order(subset))


def test_one_cycle_schedule_sized_by_total_steps():
    dataset, model = blob_dataset(n=60), make_mlp()
    epochs, batch_size = 4, 16
    pruner = DynamicPruner(len(dataset), policy="ucb", keep=KEEP, period=1, epochs=epochs,
                           labels=labels_of(dataset))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    total = pruner.total_steps(batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=total)
    loader = DataLoader(WithPositions(dataset), sampler=pruner, batch_size=batch_size)
    steps = []
    for epoch in range(epochs):
        pruner.set_epoch(epoch)
        batches = 0
        for positions, x, y in loader:
            losses = F.cross_entropy(model(x), y, reduction="none")
            optimizer.zero_grad()
            losses.mean().backward()
            optimizer.step()
            schedule.step()
            pruner.update(positions, losses.detach())
            batches += 1
        assert batches == pruner.steps_per_epoch(epoch, batch_size)
        steps.append(batches)
    assert steps == [4, 2, 2, 2]  # 60 examples, then 30 a epoch, in batches of 16
    assert total == sum(steps) and schedule.last_epoch == total
    with pytest.raises(ValueError, match="Tried to step"):
        schedule.step()  # the schedule ended exactly with the training
