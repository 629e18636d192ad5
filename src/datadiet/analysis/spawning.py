"""Children spawned from a parent checkpoint: the rest of the parent's schedule under different SGD noise.

A child starts from the parent's weights after ``t`` epochs and trains for the remaining ``E - t`` epochs of the
parent's schedule with its own seed (data order and augmentation), through :func:`datadiet.training.train`.
The learning-rate schedule continues exactly where the parent's was: the base rate already carries the decays
the parent went through, and the remaining milestones are re-expressed as fractions of the shorter budget.

The parent's optimizer state is **not** carried over: each child's momentum buffer starts from zero (both
children alike, so this adds no difference between them; with momentum 0.9 it rebuilds within about ten
steps). The trainer's own checkpoint holds the optimizer state, but it resumes only the identical run (same
seed), which is exactly what a child must not be.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import replace

from torch import Tensor, nn

from datadiet.data.dataset import IndexedDataset
from datadiet.training import TrainConfig, train

from .state_recorder import copy_state

__all__ = ["continuation_config", "train_child"]

_DECIMALS = 9  # epochs of a milestone are rounded so that e.g. 0.3 * 200 - 10 is exactly 50


def continuation_config(config: TrainConfig, start_epoch: int, seed: int) -> TrainConfig:
    """The part of ``config``'s schedule after ``start_epoch`` epochs, as a schedule of its own, with ``seed``.

    Batch for batch the learning rate equals the parent's at the same point of its schedule.
    """
    if config.epochs is None:
        raise ValueError("spawning needs a schedule in epochs (TrainConfig(epochs=...)), not in steps")
    if not 0 <= start_epoch < config.epochs:
        raise ValueError(f"start_epoch must be in [0, {config.epochs - 1}], got {start_epoch}")
    left = config.epochs - start_epoch
    ahead = [round(m * config.epochs - start_epoch, _DECIMALS) for m in sorted(config.lr_milestones)]
    passed = sum(1 for epochs in ahead if epochs <= 0)
    return replace(config, epochs=left, stop_at=None, seed=seed, lr=config.lr * config.lr_gamma**passed,
                   lr_milestones=tuple(epochs / left for epochs in ahead if epochs > 0))


def train_child(
    model: nn.Module,
    parent_state: Mapping[str, Tensor],
    data: IndexedDataset,
    config: TrainConfig,
    *,
    start_epoch: int,
    seed: int,
    device=None,
    out_dir: str | os.PathLike | None = None,
) -> dict[str, Tensor]:
    """Train a copy of ``model`` loaded with ``parent_state`` for the rest of ``config``; its final CPU state.

    ``config`` is the parent's full schedule; ``model`` is not modified. With ``out_dir`` the child keeps the
    trainer's checkpoint there and a call with the same arguments resumes it (see :func:`datadiet.training.train`).
    """
    child = copy.deepcopy(model)
    child.load_state_dict(parent_state)
    train(child, data, continuation_config(config, start_epoch, seed), out_dir=out_dir, device=device)
    return copy_state(child)
