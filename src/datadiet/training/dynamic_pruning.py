"""Dynamic pruning inside datadiet's trainer: a callback around a :class:`~datadiet.dynamic.DynamicPruner`.

``score_source="pass"`` (paper 2's rule, the default of its policies) runs a scoring pass over all N examples at
each checkpoint inside ``on_epoch_start``, which the trainer times as scoring; ``scoring_forward`` counts the
examples this process forwarded for it. ``score_source="batch"`` feeds the training batches' per-example losses
instead: no extra pass, but examples outside the current selection keep the loss they had when last trained on
(InfoBatch's rule and its default). ``score_source="stale"`` does both: the training batches' losses, and at each
checkpoint a pass over only the examples not trained on since the last one (see :mod:`datadiet.dynamic.scoring`).
:func:`resolve_score_source` gives every callback that drives a pruner the policy's default.
``epoch_length`` tells the trainer how many positions an epoch will have, so its step count is known ahead.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import TensorDataset

from datadiet.callbacks import BatchResult, Callback
from datadiet.data.dataset import IndexedDataset
from datadiet.dynamic.pruner import DynamicPruner
from datadiet.dynamic.scoring import (
    SCORE_SOURCES, check_score_precision, enter_epoch, learns_from_batches, resolve_score_source,
)
from datadiet.inference import Device

__all__ = ["DynamicPruningCallback", "SCORE_SOURCES", "resolve_score_source"]


class DynamicPruningCallback(Callback):
    """Select the training positions of each epoch with ``pruner``; scores from ``score_source``, scoring passes
    in ``score_precision`` (``"fp32"`` or ``"bf16"``, see :mod:`datadiet.dynamic.scoring`).

    Attributes:
        scoring_forward: number of examples forwarded by scoring passes so far (read by the trainer).
    """

    def __init__(
        self, pruner: DynamicPruner, data: IndexedDataset | TensorDataset, *, score_source: str | None = None,
        batch_size: int | None = None, device: Device = None, score_precision: str = "fp32",
    ) -> None:
        score_source = resolve_score_source(pruner, score_source)
        self.score_precision = check_score_precision(score_precision)
        if len(data) != pruner.num_examples:
            raise ValueError(f"the data has {len(data)} examples but the pruner was built for {pruner.num_examples}")
        self.pruner, self.data, self.score_source = pruner, data, score_source
        self.batch_size, self.device = batch_size, device
        self.scoring_forward = 0

    def on_train_start(self, model: nn.Module, num_examples: int) -> None:
        if num_examples != self.pruner.num_examples:
            raise ValueError(f"training on {num_examples} examples but the pruner was built for "
                             f"{self.pruner.num_examples}")

    def on_epoch_start(self, epoch: int, model: nn.Module) -> torch.Tensor:
        """Score at checkpoints (``score_source="pass"``), then return this epoch's positions ``(m,)``, int64."""
        self.scoring_forward += enter_epoch(self.pruner, epoch, model, self.data, batch_size=self.batch_size,
                                            device=self.device, score_source=self.score_source,
                                            score_precision=self.score_precision)
        return self.pruner.epoch_positions()

    def epoch_length(self, epoch: int) -> int:
        """Positions of ``epoch``: exact for fixed budgets; InfoBatch's is an estimate until its selection is made."""
        return self.pruner.epoch_length(epoch)

    def epoch_selection(self) -> torch.Tensor:
        """Positions ``(m,)`` the current epoch draws from: all N in full-data epochs, else the selection (the
        same on every rank of a process group; each trains on its shard of it)."""
        if self.pruner.schedule.is_full(self.pruner.epoch):
            return torch.arange(self.pruner.num_examples)
        return self.pruner.selection

    def on_batch_end(self, batch: BatchResult) -> None:
        if learns_from_batches(self.score_source):
            self.pruner.update(batch.positions, batch.losses)

    def loss_weights(self, positions: torch.Tensor) -> torch.Tensor | None:
        """InfoBatch's per-example weights ``(B,)``; None (all ones) for the other policies."""
        return self.pruner.loss_weights(positions) if self.pruner.policy.reweights else None

    def identity(self) -> dict:
        """The settings that determine the selections (compared when a run resumes): the pruner's and the score
        source (and the scoring precision when not float32)."""
        precision = {"score_precision": self.score_precision} if self.score_precision != "fp32" else {}
        return {**self.pruner.config(), "score_source": self.score_source, **precision}

    def state_dict(self) -> dict:
        return {"pruner": self.pruner.state_dict(), "scoring_forward": self.scoring_forward}

    def load_state_dict(self, state: dict) -> None:
        self.pruner.load_state_dict(state["pruner"])
        self.scoring_forward = int(state["scoring_forward"])
