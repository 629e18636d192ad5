"""Which epochs train on all data, and at which epochs a new selection is made.

Epochs are 0-based. The first ``warmup_epochs`` and the last ``final_full_epochs`` train on all N examples;
in between, a selection is made at epochs ``warmup_epochs + j * period`` (checkpoints) and used for ``period``
epochs (the last period may be cut short by the final phase).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PruningSchedule"]


@dataclass(frozen=True)
class PruningSchedule:
    period: int
    warmup_epochs: int = 0
    final_full_epochs: int = 0
    epochs: int | None = None

    def __post_init__(self) -> None:
        for name in ("period", "warmup_epochs", "final_full_epochs", "epochs"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.period < 1:
            raise ValueError(f"period must be at least 1 epoch, got {self.period}")
        if self.warmup_epochs < 0 or self.final_full_epochs < 0:
            raise ValueError("warmup_epochs and final_full_epochs must be >= 0")
        if self.epochs is None:
            if self.final_full_epochs:
                raise ValueError("a final full-data phase needs the total number of epochs (epochs=...)")
        elif self.warmup_epochs + self.final_full_epochs >= self.epochs:
            raise ValueError(
                f"no epoch left to prune: warmup_epochs={self.warmup_epochs} + final_full_epochs="
                f"{self.final_full_epochs} must be < epochs={self.epochs}"
            )

    def is_full(self, epoch: int) -> bool:
        """True in the warm-up and in the final full-data phase."""
        final = self.epochs is not None and epoch >= self.epochs - self.final_full_epochs
        return epoch < self.warmup_epochs or final

    def checkpoint_of(self, epoch: int) -> int | None:
        """The checkpoint whose selection epoch ``epoch`` trains on, or None for a full-data epoch."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        if self.is_full(epoch):
            return None
        return epoch - (epoch - self.warmup_epochs) % self.period

    def checkpoints(self) -> list[int]:
        """All checkpoint epochs of the run (needs ``epochs``)."""
        if self.epochs is None:
            raise ValueError("the list of checkpoints needs the total number of epochs (epochs=...)")
        return list(range(self.warmup_epochs, self.epochs - self.final_full_epochs, self.period))
