"""The pruner in a plain PyTorch loop: TensorDataset, DataLoader(sampler=pruner), no datadiet trainer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from datadiet.dynamic import DynamicPruner, scoring_pass


def blobs(n: int = 300, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(classes, 5, generator=g)[y] * 2 + torch.randn(n, 5, generator=g)
    return x, y


@pytest.mark.parametrize("source", ["pass", "batch"])
@pytest.mark.parametrize("policy", ["ucb", "infobatch"])
def test_plain_training_loop(source, policy):
    x, y = blobs()
    n, epochs = len(y), 8
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    options = {"keep": 0.4, "labels": y} if policy == "ucb" else {}
    pruner = DynamicPruner(n, policy=policy, period=2, epochs=epochs, **options)
    loader = DataLoader(TensorDataset(torch.arange(n), x, y), sampler=pruner, batch_size=32)
    first_loss = F.cross_entropy(model(x), y).item()
    for epoch in range(epochs):
        if source == "pass" and pruner.needs_scores(epoch):
            pruner.score_all(scoring_pass(model, TensorDataset(x, y)))
        pruner.set_epoch(epoch)
        seen = 0
        for index, xb, yb in loader:
            losses = F.cross_entropy(model(xb), yb, reduction="none")
            loss = (losses * pruner.loss_weights(index)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if source == "batch":
                pruner.update(index, losses.detach())
            seen += len(index)
        assert seen == len(pruner) == pruner.epoch_length(epoch)
    assert F.cross_entropy(model(x), y).item() < first_loss / 2
    assert pruner.num_checkpoints == 4  # UCB: warm-up epoch 0, then 1, 3, 5, 7; InfoBatch: 0, 2, 4, 6, epoch 7 full
