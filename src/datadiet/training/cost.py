"""What the trainer tells its callbacks.

A callback is any object with some of the methods of :class:`Callback`; the trainer calls those it has. Our
forgetting counter and dynamic pruner are clients of this interface; a user's own training loop never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["BatchResult", "Callback", "RunCost"]


@dataclass(frozen=True)
class BatchResult:
    """One optimizer step, as seen after its forward pass.

    Attributes:
        indices: positions of the batch's examples in the training dataset, shape ``(B,)``, int64, on the CPU.
        logits: network outputs, shape ``(B, K)``, detached, on the training device.
        labels: training labels, shape ``(B,)``.
        losses: per-example cross-entropy losses (before any loss weights), shape ``(B,)``, detached.
        epoch: epoch number (0-based) the step belongs to.
        step: global optimizer step (0-based).
    """

    indices: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor
    losses: torch.Tensor
    epoch: int
    step: int


@dataclass
class RunCost:
    """Cost accounting of a run: wall-clock split into training and scoring, and samples processed."""

    train_seconds: float = 0.0
    scoring_seconds: float = 0.0
    eval_seconds: float = 0.0
    samples_forward: int = 0
    samples_backward: int = 0
    scoring_forward: int = 0
    notes: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Training plus scoring; evaluation on the test set is reported apart."""
        return self.train_seconds + self.scoring_seconds

    def as_dict(self) -> dict:
        return {
            "train_seconds": self.train_seconds, "scoring_seconds": self.scoring_seconds,
            "eval_seconds": self.eval_seconds, "total_seconds": self.total_seconds,
            "samples_forward": self.samples_forward, "samples_backward": self.samples_backward,
            "scoring_forward": self.scoring_forward, **self.notes,
        }


class Callback:
    """Base class with no-op hooks; subclass and override what you need (inheriting is optional).

    ``on_epoch_start`` may return a tensor of positions to train on this epoch (a data selection); the trainer
    times it as scoring. ``loss_weights`` may return per-example weights ``(B,)`` for a batch.
    """

    def on_train_start(self, model: nn.Module, num_examples: int) -> None:
        """Called once before the first step (also on resume)."""

    def on_epoch_start(self, epoch: int, model: nn.Module) -> torch.Tensor | None:
        """Called before each epoch; return positions to train on, or None to keep the trainer's own order."""

    def on_batch_end(self, batch: BatchResult) -> None:
        """Called after every optimizer step with the batch's per-example results."""

    def loss_weights(self, indices: torch.Tensor) -> torch.Tensor | None:
        """Per-example loss weights ``(B,)`` for the batch at ``indices`` (positions), or None for all ones."""

    def on_epoch_end(self, epoch: int, model: nn.Module) -> None:
        """Called after each epoch (after evaluation)."""

    def state_dict(self) -> dict:
        """State to checkpoint with the run (tensors, numbers, strings, lists, dicts)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
