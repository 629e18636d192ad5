"""A LightningModule as a user would write it, and the Fashion-MNIST subset the Lightning tests train on.

``Classifier.training_step`` returns what the datadiet callbacks read: ``{"loss", "losses", "logits"}``; its batches
come from ``WithPositions(TensorDataset(x, y))``. Given the pruner, it follows a ``OneCycleLR`` schedule over
``pruner.total_steps(batch_size)`` optimizer steps (sized when the fit configures its optimizers, after the pruner
has learnt its rank), otherwise a constant learning rate (as datadiet's trainer with ``lr_milestones=()``).
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from datadiet.data import IndexedDataset, load_splits
from datadiet.dynamic import DynamicPruner

N_TRAIN, N_TEST = 3000, 1000
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 5e-4


def fashion_subset(path: Path) -> tuple[IndexedDataset, IndexedDataset]:
    """The first 3,000 training and 1,000 test images of Fashion-MNIST, normalized by the full training split."""
    splits = load_splits("fashion-mnist", path)
    return splits.train.subset(range(N_TRAIN)), splits.test.subset(range(N_TEST))


def tensors(data: IndexedDataset) -> TensorDataset:
    """The user's view of the data: a plain ``TensorDataset(x, y)``."""
    return TensorDataset(data.x, data.y)


def make_net(seed: int) -> nn.Module:
    """Flatten, Linear(784, 64), ReLU, Linear(64, 10), initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


class Classifier(L.LightningModule):
    """SGD (Nesterov momentum 0.9, weight decay 5e-4) on ``net``; per-example losses and logits from each step."""

    def __init__(self, net: nn.Module, pruner: DynamicPruner | None = None, batch_size: int | None = None) -> None:
        super().__init__()
        self.net, self.pruner, self.batch_size = net, pruner, batch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        positions, x, y = batch
        logits = self(x)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        return {"loss": losses.mean(), "losses": losses.detach(), "logits": logits.detach()}

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True,
                                    weight_decay=WEIGHT_DECAY)
        if self.pruner is None:
            return optimizer
        steps = self.pruner.total_steps(self.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def quiet_trainer(epochs: int, callbacks: list, **options) -> L.Trainer:
    """A CPU ``Trainer`` without logger, checkpoints, progress bar or summary, reloading the loader every epoch."""
    options = {"devices": 1, "reload_dataloaders_every_n_epochs": 1, **options}
    return L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks, **options)


@torch.no_grad()
def accuracy(net: nn.Module, data: IndexedDataset) -> float:
    """Top-1 accuracy of ``net`` (in evaluation mode) on ``data``."""
    net.eval()
    return float((net(data.x).argmax(1) == data.y).float().mean())
