"""datadiet's trainer as a training function for :func:`datadiet.scores.score_runs`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn

from datadiet.callbacks import Callback
from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device
from datadiet.training.config import TrainConfig
from datadiet.training.device import parse_device
from datadiet.training.trainer import train

__all__ = ["TrainerFn", "trainer_fn"]


@dataclass(frozen=True)
class TrainerFn:
    """Trains on ``data`` with ``config``'s schedule stopped early; see :class:`datadiet.scores.TrainFn`.

    Run ``r`` replaces the config's ``seed`` and ``stop_at``; the time unit and budget are the config's. The
    network is moved to ``device`` and trained there.
    """

    data: IndexedDataset
    config: TrainConfig
    device: torch.device

    @property
    def time_unit(self) -> str:
        """``"epoch"`` or ``"step"``, the config's budget unit."""
        return self.config.budget_unit.rstrip("s")

    @property
    def budget(self) -> int:
        """The full schedule's length in epochs or steps."""
        budget = self.config.epochs if self.config.epochs is not None else self.config.steps
        assert budget is not None  # a TrainConfig has exactly one budget
        return budget

    def describe(self, seed: int, stop_at: int) -> dict:
        """The configuration of the run with ``seed`` stopped at ``stop_at``, as a dict."""
        return replace(self.config, seed=seed, stop_at=stop_at).to_dict()

    def __call__(self, model: nn.Module, seed: int, stop_at: int, listeners: Sequence[Callback]) -> None:
        train(model, self.data, replace(self.config, seed=seed, stop_at=stop_at), callbacks=listeners,
              device=self.device)


def trainer_fn(data: IndexedDataset, config: TrainConfig, *, device: Device = None) -> TrainerFn:
    """A training function for :func:`~datadiet.scores.score_runs`: datadiet's trainer on ``data`` with ``config``.

    ``device`` None: :func:`~datadiet.training.default_device`. Pass ``device=fn.device`` to ``score_runs`` to
    build and score the networks there too (at initialization as well)::

        fn = trainer_fn(data, TrainConfig(epochs=200))
        scores = score_runs("el2n", data, make_model, fn, at=20, runs=10, device=fn.device)
    """
    return TrainerFn(data, config, parse_device(device))
