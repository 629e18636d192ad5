"""Forgetting events (Toneva et al. 2019), counted during training.

Each time an example is presented in a minibatch we record whether the network classified it correctly; a
forgetting event is a presentation classified incorrectly right after a presentation classified correctly. The
score is the number of events. Conventions:

- examples **never** classified correctly score ``+inf``: they rank above every learned example, never with the
  unforgettable ones at 0;
- examples **never presented** make :meth:`ForgettingCounter.compute` raise ``ValueError`` (there is nothing to
  score them by: train on the whole dataset, or count on the subset you train on);
- presentations are taken in order, including repeated examples within one batch.

High = forgotten often or never learned = hard / important (paper 1 keeps the highest).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from datadiet.callbacks import BatchResult

__all__ = ["ForgettingCounter", "feed_forgetting"]

_UNSEEN = -1


class ForgettingCounter:
    """Accumulates forgetting events per example: ``update`` / ``compute`` / ``reset`` / ``state_dict``.

    Args:
        num_examples: dataset size N (positions ``0..N-1``).

    In a training loop, feed it every batch's training forward pass (``logits.argmax(1) == labels`` on the
    augmented inputs, as in Toneva et al.): ``AccumulatorCallback(counter, feed_forgetting)`` does that from
    each :class:`~datadiet.callbacks.BatchResult`. ``state_dict`` / ``load_state_dict`` restore it exactly.
    """

    def __init__(self, num_examples: int) -> None:
        if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
            raise ValueError(f"num_examples must be a positive integer, got {num_examples!r}")
        self.num_examples = num_examples
        self.reset()

    def reset(self) -> None:
        """Forget everything counted so far (keeps N)."""
        n = self.num_examples
        self.last = torch.full((n,), _UNSEEN, dtype=torch.int8)  # -1 unseen, 0 wrong, 1 correct
        self.events = torch.zeros(n, dtype=torch.int64)
        self.learned = torch.zeros(n, dtype=torch.bool)

    def update(self, positions: ArrayLike | torch.Tensor, correct: ArrayLike | torch.Tensor) -> None:
        """Record one batch: positions ``(B,)`` and whether each was classified correctly ``(B,)`` (bool)."""
        idx = torch.as_tensor(positions).detach().cpu().long().flatten()
        ok = torch.as_tensor(correct).detach().cpu().bool().flatten()
        if len(idx) != len(ok):
            raise ValueError(f"positions and correct must have the same length, got {len(idx)} and {len(ok)}")
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= self.num_examples):
            raise ValueError(f"positions must be in [0, {self.num_examples}), got {int(idx.min())}..{int(idx.max())}")
        for rows in _occurrence_rounds(idx):
            i, c = idx[rows], ok[rows]
            self.events[i] += ((self.last[i] == 1) & ~c).long()
            self.learned[i] |= c
            self.last[i] = c.to(torch.int8)

    def compute(self) -> np.ndarray:
        """Forgetting events per example, float64 ``(N,)``; ``+inf`` for never learned. Unseen examples raise."""
        unseen = torch.nonzero(self.last == _UNSEEN).flatten()
        if len(unseen):
            raise ValueError(
                f"{len(unseen)} of {self.num_examples} examples were never presented (positions "
                f"{unseen[:5].tolist()}...); forgetting scores need every example presented at least once"
            )
        scores = self.events.double()
        scores[~self.learned] = float("inf")
        return scores.numpy()

    def state_dict(self) -> dict:
        """The counts so far: ``last`` int8, ``events`` int64 and ``learned`` bool, each ``(N,)``."""
        return {"last": self.last.clone(), "events": self.events.clone(), "learned": self.learned.clone()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; it must come from a counter of the same N."""
        if len(state["last"]) != self.num_examples:
            raise ValueError(f"the state counts {len(state['last'])} examples, this counter {self.num_examples}")
        self.last.copy_(state["last"])
        self.events.copy_(state["events"])
        self.learned.copy_(state["learned"])


def feed_forgetting(counter: ForgettingCounter, batch: BatchResult) -> None:
    """Record a training batch in ``counter``: its positions and ``argmax(logits) == labels``."""
    counter.update(batch.positions, batch.logits.argmax(1) == batch.labels)


def _occurrence_rounds(idx: torch.Tensor) -> list[torch.Tensor]:
    """Rows of ``idx`` split into rounds without repeated positions: round r holds each position's r-th row.

    Applying the rounds in order applies every example's presentations in their batch order.
    """
    order = torch.sort(idx, stable=True).indices
    sorted_idx = idx[order]
    starts = torch.ones(len(idx), dtype=torch.bool)
    starts[1:] = sorted_idx[1:] != sorted_idx[:-1]
    group_start = torch.cummax(torch.where(starts, torch.arange(len(idx)), 0), 0).values
    occurrence = torch.empty_like(idx)
    occurrence[order] = torch.arange(len(idx)) - group_start
    return [torch.nonzero(occurrence == r).flatten() for r in range(int(occurrence.max()) + 1)] if len(idx) else []
