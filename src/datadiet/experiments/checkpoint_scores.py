"""The scores a dynamic run ranked by at its latest checkpoint, kept in its folder (paper 2, Table 1).

A dynamic run whose policy ranks by training losses (uncertainty, its EMA, epsilon-greedy, UCB) writes at each
checkpoint ``checkpoint_scores.npy``, float32 ``(N,)`` in position order: the priority the checkpoint's selection
was made by (high = kept: the loss EMA for ``uncertainty-ema``, ``ema + c var`` for UCB), and
``checkpoint_scores.json``, the checkpoint's ``epoch`` and ``num_examples`` (written second). Each checkpoint
replaces the previous one's, so a finished run holds its final checkpoint's scores; Table 1's static arm trains on
the top k of them. The scores are taken when the selection is made and written at the end of that epoch, before
the trainer's checkpoint of it: a run killed in between does the epoch again and rewrites both files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from datadiet.callbacks import Callback
from datadiet.dynamic import DynamicPruner, Policy
from datadiet.dynamic.policies import RankingPolicy
from datadiet.experiments.layout import CHECKPOINT_SCORES_FILE, CHECKPOINT_SCORES_RECORD
from datadiet.files import atomic_write_npy, read_npy, write_json

__all__ = ["CheckpointScoresCallback", "load_checkpoint_scores", "ranks_by_losses"]


def ranks_by_losses(policy: Policy) -> bool:
    """Whether ``policy`` ranks the examples by a priority computed from training losses."""
    return isinstance(policy, RankingPolicy) and policy.needs_scores


class CheckpointScoresCallback(Callback):
    """Writes the priority of ``pruner``'s latest checkpoint into ``run_dir`` (put it after the pruner's callback).

    ``pruner``'s policy must rank by training losses (:func:`ranks_by_losses`).
    """

    def __init__(self, pruner: DynamicPruner, run_dir: Path) -> None:
        if not ranks_by_losses(pruner.policy):
            raise ValueError(f"policy {pruner.policy.name!r} ranks by no training losses: no checkpoint scores")
        self.pruner, self.run_dir = pruner, run_dir
        self._taken: tuple[int, np.ndarray] | None = None

    def on_epoch_start(self, epoch: int, model: nn.Module) -> None:
        """At a checkpoint (its selection just made), take the priority the selection was made by."""
        if self.pruner.schedule.checkpoint_of(epoch) == epoch:
            policy = self.pruner.policy
            assert isinstance(policy, RankingPolicy)  # checked at construction
            priority = policy.priority(self.pruner.tracker)
            assert priority is not None  # a policy ranking by losses has one
            self._taken = (epoch, priority.float().numpy().copy())

    def on_epoch_end(self, epoch: int, model: nn.Module) -> None:
        if self._taken is not None:
            taken_epoch, scores = self._taken
            atomic_write_npy(self.run_dir / CHECKPOINT_SCORES_FILE, scores)
            write_json(self.run_dir / CHECKPOINT_SCORES_RECORD, {"epoch": taken_epoch, "num_examples": len(scores)})
            self._taken = None



def load_checkpoint_scores(run_dir: Path) -> tuple[torch.Tensor, int]:
    """The scores ``(N,)`` and epoch of the latest checkpoint of the dynamic run in ``run_dir`` (no pickle)."""
    record = run_dir / CHECKPOINT_SCORES_RECORD
    if not record.is_file():
        raise FileNotFoundError(f"{run_dir} holds no checkpoint scores (not a finished dynamic run ranking by "
                                f"training losses, or one finished before they were kept: run it again)")
    meta = json.loads(record.read_text())
    scores = read_npy(run_dir / CHECKPOINT_SCORES_FILE, "checkpoint scores")
    if scores.shape != (meta["num_examples"],):
        raise ValueError(f"checkpoint scores in {run_dir} have shape {scores.shape}, the record says "
                         f"({meta['num_examples']},)")
    return torch.from_numpy(scores), int(meta["epoch"])
