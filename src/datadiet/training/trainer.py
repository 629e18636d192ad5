"""The canonical training loop: SGD on in-memory tensors, callbacks, cost accounting, exact resume.

The whole training set lives as tensors on the device; an epoch is a permutation of the training positions (or
the positions a callback selects), cut into batches, augmented as whole-batch tensor operations. Data order and
augmentation draw from generators seeded by ``(seed, epoch)``, so a run resumed from the checkpoint of a finished
epoch continues exactly as the uninterrupted run would have. Callbacks (:class:`datadiet.callbacks.Callback`) that
select an epoch's positions say ahead how many (``epoch_length``), so the progress bar counts the steps the run
will really take.

Inside a torch.distributed process group each process trains on its shard of every epoch with gradients
averaged over the processes (see :mod:`datadiet.training.distributed`); rank 0 evaluates and writes the files.
Each epoch's log line holds every rank's hash of the positions it drew from (``selection_sha``: a selecting
callback's ``epoch_selection()``, else the trained positions) and ``distinct_examples``, the positions trained
on across all ranks.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from datadiet.callbacks import BatchResult, Callback
from datadiet.data.augment import augment_batch
from datadiet.data.dataset import IndexedDataset
from datadiet.errors import TrainingDiverged
from datadiet.files import atomic_write, remove_stale_temps
from datadiet.training.checkpoint import load_checkpoint, save_checkpoint
from datadiet.training.config import TrainConfig
from datadiet.training.cost import RunCost
from datadiet.training.device import autocast, needs_grad_scaler, parse_device
from datadiet.training.distributed import Replicas, selection_sha
from datadiet.training.evaluate import evaluate
from datadiet.training.identity import check_same_run, run_identity
from datadiet.training.schedule import lr_factor

__all__ = ["LOG_FILE", "TrainResult", "TrainingDiverged", "train"]

CHECKPOINT = "checkpoint.pt"
LOG_FILE = "log.jsonl"
"""The run folder's log, one JSON line of metrics per epoch (cumulative costs, test accuracy when evaluated)."""


@dataclass
class TrainResult:
    """The trained model (in place), final metrics and the per-epoch history."""

    model: nn.Module
    metrics: dict
    history: list[dict] = field(default_factory=list)


def train(
    model: nn.Module,
    train_data: IndexedDataset,
    config: TrainConfig,
    *,
    test_data: IndexedDataset | None = None,
    subset: np.ndarray | torch.Tensor | None = None,
    callbacks: Sequence[Callback] = (),
    out_dir: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
    identity: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train_data`` (or the positions in ``subset``) with SGD.

    With ``out_dir`` a checkpoint is kept after every epoch and a run with the same settings resumes from it;
    ``log.jsonl`` holds one line of metrics per epoch. The settings compared are the trainer's (configuration,
    training data and positions, callbacks' own settings) and ``identity``: the caller's other settings that
    change the result (model and its options, how the data was made), JSON-compatible. A checkpoint of a run
    with other settings is a ``ValueError`` naming them; temporary files of a killed run are removed.
    """
    device = parse_device(device)
    run = _Run(model, train_data, config, test_data, _positions(train_data, subset), list(callbacks), device)
    if out_dir is not None:
        run.out_dir = Path(out_dir)
        run.identity = run_identity(config, train_data, run.positions, run.callbacks, identity)
        run.replicas.barrier()  # no rank writes into out_dir while the others look at it for a checkpoint
        run.resume()
        run.replicas.barrier()
    return run.fit()


def _positions(data: IndexedDataset, subset: np.ndarray | torch.Tensor | None) -> torch.Tensor:
    if subset is None:
        return torch.arange(len(data))
    pos = torch.as_tensor(np.asarray(subset), dtype=torch.long)
    if pos.dim() != 1 or len(pos) == 0:
        raise ValueError("a subset is a non-empty 1-D array of positions")
    if int(pos.min()) < 0 or int(pos.max()) >= len(data) or len(pos.unique()) != len(pos):
        raise ValueError(f"subset positions must be unique and within [0, {len(data)})")
    return pos


class _Run:
    """Mutable state of one training run."""

    def __init__(self, model, data, config, test_data, positions, callbacks, device) -> None:
        self.model, self.config, self.test_data, self.callbacks = model.to(device), config, test_data, callbacks
        self.data, self.positions, self.device = data, positions, device
        self.x, self.y = data.x.to(device), data.y.to(device)
        self.augment = config.augment if config.augment is not None else data.augment
        self.optimizer = torch.optim.SGD(
            model.parameters(), lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
        self.scaler = torch.amp.GradScaler(device.type) if needs_grad_scaler(config.precision, device) else None
        self.epoch, self.step, self.cost = 0, 0, RunCost()
        self.history: list[dict] = []
        self.out_dir: Path | None = None
        self.identity: dict = {}
        self.replicas = Replicas.current()
        self.batch_size = self.replicas.batch_size(config.batch_size)

    # -- budget -------------------------------------------------------------------------------------------
    def _end(self) -> tuple[str, int]:
        c = self.config
        if c.epochs is not None:
            return "epochs", c.stop_at if c.stop_at is not None else c.epochs
        return "steps", c.stop_at if c.stop_at is not None else c.steps

    def _finished(self) -> bool:
        unit, end = self._end()
        return (self.epoch if unit == "epochs" else self.step) >= end

    def _epoch_steps(self, epoch: int) -> int:
        """Optimizer steps of ``epoch``: its positions (the last selecting callback's ``epoch_length``) in batches."""
        length = self.replicas.shard_length(len(self.positions))
        for cb in self.callbacks:
            selected = _call(cb, "epoch_length", epoch)
            length = selected if selected is not None else length
        return len(_batch_bounds(length, self.batch_size))

    def _planned_steps(self, current: int | None = None) -> int:
        """Steps the run will have taken at its end: the step budget, or the steps so far plus the current
        epoch's (``current`` once its batches are cut) and each remaining epoch's."""
        unit, end = self._end()
        if unit == "steps":
            return end
        if self.epoch >= end:
            return self.step
        current = self._epoch_steps(self.epoch) if current is None else current
        return self.step + current + sum(self._epoch_steps(e) for e in range(self.epoch + 1, end))

    def _progress(self, batch: int, num_batches: int) -> float:
        if self.config.epochs is not None:
            return (self.epoch + batch / num_batches) / self.config.epochs
        return self.step / self.config.steps

    # -- the loop -----------------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        self.replicas.broadcast_model(self.model)
        for cb in self.callbacks:
            _call(cb, "on_train_start", self.model, len(self.data))
        quiet = not (self.config.progress and self.replicas.main)
        with tqdm(total=self._planned_steps(), initial=self.step, disable=quiet, desc="train", unit="step",
                  leave=False) as bar:
            while not self._finished():
                self._train_epoch(bar)
                self._end_epoch()
        return TrainResult(self.model, self._final_metrics(), self.history)

    def _epoch_order(self) -> torch.Tensor:
        start = time.perf_counter()
        chosen = None
        for cb in self.callbacks:
            selected = _call(cb, "on_epoch_start", self.epoch, self.model)
            chosen = selected if selected is not None else chosen
        self.cost.scoring_seconds += _elapsed(start, self.device)
        if chosen is not None:
            return torch.as_tensor(chosen, dtype=torch.long).cpu()
        g = torch.Generator().manual_seed(_seed(self.config.seed, self.epoch, 0))
        return self.replicas.shard(self.positions[torch.randperm(len(self.positions), generator=g)])

    def _train_epoch(self, bar: tqdm) -> None:
        order = self._epoch_order()
        aug = torch.Generator().manual_seed(_seed(self.config.seed, self.epoch, 1 + 2 * self.replicas.rank))
        bounds = _batch_bounds(len(order), self.batch_size)
        if self.config.steps is not None:
            bounds = bounds[: self._end()[1] - self.step]
        num_batches = len(bounds)
        bar.total = self._planned_steps(num_batches)
        bar.refresh()
        self.model.train()
        loss_sum, correct, seen = torch.zeros((), device=self.device), torch.zeros((), device=self.device), 0
        start = time.perf_counter()
        for b, (lo, hi) in enumerate(bounds):
            idx = order[lo:hi]
            losses, logits = self._step(idx, aug, self._progress(b, num_batches))
            loss_sum += losses.sum()
            correct += (logits.argmax(1) == self.y[idx.to(self.device)]).sum()
            seen += len(idx)
            bar.update(1)
        self.cost.train_seconds += _elapsed(start, self.device)
        total_loss, total_correct, total_seen = self.replicas.total(loss_sum, correct, seen)
        examples = int(total_seen)
        self.cost.samples_forward += examples
        self.cost.samples_backward += examples
        self._epoch_stats = {"train_loss": total_loss / max(examples, 1),
                             "train_accuracy": total_correct / max(examples, 1), "examples": examples,
                             **self._selection_record(order)}

    def _step(self, idx: torch.Tensor, aug: torch.Generator, progress: float) -> tuple[torch.Tensor, torch.Tensor]:
        lr = self.config.lr * lr_factor(progress, self.config.lr_milestones, self.config.lr_gamma)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        dev_idx = idx.to(self.device)
        x, y = augment_batch(self.x[dev_idx], self.augment, aug), self.y[dev_idx]
        with autocast(self.config.precision, self.device):
            logits = self.model(x)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        loss = (losses * self._loss_weights(idx)).mean()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.replicas.average_gradients(self.model)
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.replicas.average_gradients(self.model)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        result = BatchResult(idx, logits.detach(), y, losses.detach(), self.epoch, self.step)
        for cb in self.callbacks:
            _call(cb, "on_batch_end", result)
        self.step += 1
        return losses.detach(), logits.detach()

    def _loss_weights(self, idx: torch.Tensor) -> torch.Tensor | float:
        """The product of the callbacks' per-example loss weights ``(B,)`` for the batch at positions ``idx``."""
        weights: torch.Tensor | float = 1.0
        for cb in self.callbacks:
            w = _call(cb, "loss_weights", idx)
            if w is not None:
                weights = weights * w.to(self.device)
        return weights

    def _selection_record(self, order: torch.Tensor) -> dict:
        """Every rank's hash of the positions this epoch drew from, and the positions trained on across ranks."""
        pool = self.positions
        for cb in self.callbacks:
            selected = _call(cb, "epoch_selection")
            pool = selected if selected is not None else pool
        distinct = len(torch.cat(self.replicas.gather(order)).unique())
        return {"selection_sha": self.replicas.gather(selection_sha(pool)), "distinct_examples": distinct}

    def _end_epoch(self) -> None:
        self.replicas.sync_buffers(self.model)
        self._check_finite()
        self._count_scoring()
        entry = {"epoch": self.epoch, "step": self.step, **self._epoch_stats, **self.cost.as_dict()}
        self.epoch += 1
        if self.replicas.main and self.test_data is not None and (
                self.epoch % self.config.eval_every == 0 or self._finished()):
            start = time.perf_counter()
            test = evaluate(self.model, self.test_data, batch_size=self.config.eval_batch_size, device=self.device)
            self.cost.eval_seconds += time.perf_counter() - start
            entry.update(test_accuracy=test["accuracy"], test_loss=test["loss"])
        self.history.append(self.replicas.from_main(entry))
        for cb in self.callbacks:
            _call(cb, "on_epoch_end", self.epoch - 1, self.model)
        if self.out_dir is not None and self.replicas.main:
            self._save()
        self.replicas.barrier()

    def _check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` if a weight is NaN or infinite (no checkpoint of it is kept)."""
        if all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            return
        raise TrainingDiverged(f"training diverged in epoch {self.epoch + 1}: the weights are NaN or infinite "
                               f"(training loss {self._epoch_stats['train_loss']:.4g}); lower the learning rate "
                               f"(lr = {self.config.lr:g})")

    def _final_metrics(self) -> dict:
        last = self.history[-1] if self.history else {}
        self._count_scoring()
        return {
            "epochs": self.epoch, "steps": self.step, "train_examples": len(self.positions),
            "test_accuracy": last.get("test_accuracy"), "test_loss": last.get("test_loss"),
            "train_loss": last.get("train_loss"), **self.cost.as_dict(),
        }

    def _count_scoring(self) -> None:
        """Examples the callbacks' scoring passes have forwarded so far (they keep the count)."""
        self.cost.scoring_forward = sum(int(getattr(cb, "scoring_forward", 0)) for cb in self.callbacks)

    # -- checkpoints --------------------------------------------------------------------------------------
    def _save(self) -> None:
        out_dir = self.out_dir
        assert out_dir is not None, "_save() is only called once out_dir is set"
        state = {
            "identity": self.identity, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "epoch": self.epoch, "step": self.step,
            "history": self.history, "cost": self.cost.as_dict(),
            "callbacks": [cb.state_dict() if hasattr(cb, "state_dict") else {} for cb in self.callbacks],
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
        }
        save_checkpoint(out_dir / CHECKPOINT, state)
        text = _jsonl(self.history)
        atomic_write(out_dir / LOG_FILE, lambda tmp: Path(tmp).write_text(text))

    def resume(self) -> None:
        """Continue from ``out_dir``'s checkpoint if there is one; it must come from a run with the same settings.
        Temporary files a killed run left are removed."""
        out_dir = self.out_dir
        assert out_dir is not None, "resume() is only called once out_dir is set"
        path = out_dir / CHECKPOINT
        if out_dir.exists() and not out_dir.is_dir():
            raise ValueError(f"--out {out_dir} is a file, not a folder")
        if not path.exists():
            remove_stale_temps(out_dir)
            return
        state = load_checkpoint(path)
        check_same_run(state["identity"], self.identity, out_dir)
        remove_stale_temps(out_dir)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step, self.history = state["epoch"], state["step"], state["history"]
        for key in ("train_seconds", "scoring_seconds", "eval_seconds", "samples_forward", "samples_backward"):
            setattr(self.cost, key, state["cost"][key])
        for cb, cb_state in zip(self.callbacks, state["callbacks"]):
            if hasattr(cb, "load_state_dict"):
                cb.load_state_dict(cb_state)


def _batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Batch ``(start, end)`` positions of an epoch of ``n``; a last batch of one example joins the one before
    (BatchNorm cannot normalize a single example in training mode)."""
    bounds = [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def _call(cb: object, name: str, *args):
    method = getattr(cb, name, None)
    return method(*args) if method is not None else None


def _seed(seed: int, epoch: int, stream: int) -> int:
    return (seed * 1_000_003 + epoch * 7_919 + stream) % (2**63 - 1)


def _elapsed(start: float, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def _jsonl(entries: list[dict]) -> str:
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
