"""What a training loop tells its listeners, with no trainer behind it.

A training loop (datadiet's trainer, or your own) reports each optimizer step as a :class:`BatchResult` (the
batch's positions, logits, labels and per-example losses) and marks epochs and the run's start. A listener is any
object with some of the methods of :class:`Callback`; a loop calls those it has (inheriting is optional).

Per-example accumulators (:class:`Accumulator`: ``update / compute / reset / state_dict``, e.g.
:class:`~datadiet.scores.ForgettingCounter`) know nothing of batches; :class:`AccumulatorCallback` feeds one from
each :class:`BatchResult` with a function that says how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import torch
from torch import nn

__all__ = ["Accumulator", "AccumulatorCallback", "BatchResult", "Callback"]


@dataclass(frozen=True)
class BatchResult:
    """One optimizer step, as seen after its forward pass.

    Attributes:
        positions: positions of the batch's examples in the training dataset, shape ``(B,)``, int64, on the CPU.
        logits: network outputs on the (possibly augmented) training inputs, shape ``(B, K)``, detached.
        labels: training labels, shape ``(B,)``, on the logits' device.
        losses: per-example cross-entropy losses (before any loss weights), shape ``(B,)``, detached.
        epoch: epoch number (0-based) the step belongs to.
        step: global optimizer step (0-based).
    """

    positions: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor
    losses: torch.Tensor
    epoch: int
    step: int


class Callback:
    """Base class with no-op hooks; subclass and override what you need (inheriting is optional).

    Listening: ``on_train_start``, ``on_batch_end``, ``on_epoch_end``. Steering (a loop may ignore these):
    ``on_epoch_start`` may return the positions to train on this epoch (a data selection), ``epoch_length`` how
    many it will return (so a loop can size progress bars and step counts in advance), ``loss_weights``
    per-example weights for a batch.
    """

    def on_train_start(self, model: nn.Module, num_examples: int) -> None:
        """Called once before the first step (also on resume), with the training set's size N."""

    def on_epoch_start(self, epoch: int, model: nn.Module) -> torch.Tensor | None:
        """Called before each epoch; return positions ``(m,)`` to train on, or None to keep the loop's order."""

    def epoch_length(self, epoch: int) -> int | None:
        """Number of positions ``on_epoch_start(epoch)`` will return, or None if it selects nothing."""

    def on_batch_end(self, batch: BatchResult) -> None:
        """Called after every optimizer step with the batch's per-example results."""

    def loss_weights(self, positions: torch.Tensor) -> torch.Tensor | None:
        """Per-example loss weights ``(B,)`` for the batch at ``positions``, or None for all ones."""

    def on_epoch_end(self, epoch: int, model: nn.Module) -> None:
        """Called after each epoch."""

    def state_dict(self) -> dict:
        """State to checkpoint with the run (tensors, numbers, strings, lists, dicts)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


class Accumulator(Protocol):
    """A per-example statistic accumulated over training (torchmetrics-style).

    ``update(...)`` records one batch (arguments are the accumulator's own), ``compute()`` returns float64
    ``(N,)`` scores, ``reset()`` forgets everything, ``state_dict`` / ``load_state_dict`` checkpoint it exactly.
    """

    @property
    def update(self) -> Callable[..., None]: ...  # a method taking the accumulator's own arguments

    def compute(self) -> Any: ...

    def reset(self) -> None: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


A = TypeVar("A", bound=Accumulator)


class AccumulatorCallback(Callback, Generic[A]):
    """Feeds ``accumulator`` from every training batch with ``feed(accumulator, batch)``.

    Its checkpointed state is the accumulator's, so a resumed run continues the count exactly.
    """

    def __init__(self, accumulator: A, feed: Callable[[A, BatchResult], None]) -> None:
        self.accumulator, self.feed = accumulator, feed

    def on_batch_end(self, batch: BatchResult) -> None:
        self.feed(self.accumulator, batch)

    def state_dict(self) -> dict:
        return self.accumulator.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.accumulator.load_state_dict(state)
