"""Snapshots of a network's weights during training: the checkpoints the training-dynamics analyses compare."""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor, nn

from datadiet.callbacks import Callback

__all__ = ["StateRecorder", "copy_state"]


def copy_state(model: nn.Module) -> dict[str, Tensor]:
    """A detached CPU copy of ``model.state_dict()`` (weights and buffers such as BatchNorm statistics)."""
    return {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}


class StateRecorder(Callback):
    """Trainer callback keeping a CPU copy of the model's state after chosen epochs.

    ``states[t]`` is the state after ``t`` epochs; ``t = 0`` is the state when training starts (the
    initialization). Use one recorder per run. The recorded states are part of :meth:`state_dict`, so a run
    resumed from its checkpoint keeps them (and the checkpoint grows by one model per recorded epoch).

    Args:
        epochs: the epoch counts to record (each >= 0); None records every epoch, including 0.
    """

    def __init__(self, epochs: Iterable[int] | None = None) -> None:
        self.epochs = None if epochs is None else sorted({int(e) for e in epochs})
        if self.epochs is not None and (not self.epochs or self.epochs[0] < 0):
            raise ValueError(f"epochs must be a non-empty set of counts >= 0, got {epochs!r}")
        self.states: dict[int, dict[str, Tensor]] = {}

    def wants(self, epoch: int) -> bool:
        return self.epochs is None or epoch in self.epochs

    def on_train_start(self, model: nn.Module, num_examples: int) -> None:
        if self.wants(0) and 0 not in self.states:
            self.states[0] = copy_state(model)

    def on_epoch_end(self, epoch: int, model: nn.Module) -> None:
        if self.wants(epoch + 1):
            self.states[epoch + 1] = copy_state(model)

    def state_dict(self) -> dict:
        return {"epochs": list(self.states), "states": list(self.states.values())}

    def load_state_dict(self, state: dict) -> None:
        self.states = {int(e): s for e, s in zip(state["epochs"], state["states"])}

    def ordered(self) -> list[dict[str, Tensor]]:
        """The recorded states in epoch order."""
        return [self.states[e] for e in sorted(self.states)]

    def missing(self) -> list[int]:
        """Requested epochs not recorded (yet): e.g. beyond the end of a run."""
        return [] if self.epochs is None else [e for e in self.epochs if e not in self.states]

