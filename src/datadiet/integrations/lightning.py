"""Dynamic pruning and per-example recording inside a normal Lightning ``Trainer.fit``.

The one thing your code adds: the training set yields positions (``WithPositions(train_set)``, or an
``IndexedDataset``), and ``training_step`` returns the batch's per-example losses and logits next to the loss::

    def training_step(self, batch, batch_idx):
        positions, x, y = batch                                  # dict batches: batch["position"]
        logits = self(x)
        losses = F.cross_entropy(logits, y, reduction="none")
        return {"loss": losses.mean(), "losses": losses.detach(), "logits": logits.detach()}

Without ``"losses"`` the callbacks compute the cross-entropy of ``"logits"``; the pruner needs one of them (with
``score_source="batch"``), the accumulators need ``"logits"``.

**Dynamic pruning**: the :class:`~datadiet.dynamic.DynamicPruner` is the train ``DataLoader``'s sampler, and
:class:`DynamicPruningCallback` drives it::

    pruner = DynamicPruner(len(train_set), policy="ucb", keep=0.3, period=2, epochs=20, labels=labels_of(train_set))
    module.train_dataloader = lambda: DataLoader(WithPositions(train_set), sampler=pruner, batch_size=128)
    trainer = L.Trainer(max_epochs=20, reload_dataloaders_every_n_epochs=1, use_distributed_sampler=False,
                        callbacks=[DynamicPruningCallback(pruner, score_source="batch")])
    trainer.fit(module)

``reload_dataloaders_every_n_epochs=1`` makes Lightning read each epoch's length anew (the pruner changes it;
required when it does), ``use_distributed_sampler=False`` keeps Lightning from wrapping the pruner under DDP (it
shards by rank itself). Size a step-based schedule with the pruner in ``configure_optimizers``, not with
``trainer.estimated_stepping_batches`` (which assumes every epoch is as long as the first)::

    OneCycleLR(optimizer, max_lr=0.1, total_steps=pruner.total_steps(batch_size))

InfoBatch rescales the losses of the examples it keeps: multiply by ``pruner.loss_weights(positions)`` in
``training_step``.

**Recording** (forgetting, the training-dynamics recording, any accumulator of :mod:`datadiet.scores`)::

    counter = ForgettingCounter(len(train_set))
    trainer = L.Trainer(..., callbacks=[AccumulatorCallback(counter, feed_forgetting)])

Under DDP (``strategy="ddp"``) every rank trains on its own shard; the pruner merges the ranks' losses at each
selection, so every rank selects the same examples, and :class:`AccumulatorCallback` all-gathers each batch, so
every rank's accumulator holds the whole run. Lightning's callback state (``state_dict``) holds the pruner's and the
accumulators' state, so a run resumed from a Lightning checkpoint continues with the same selections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

try:
    import lightning.pytorch as pl
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError('datadiet.integrations.lightning needs Lightning: pip install "datadiet[lightning]"') from err

from datadiet.callbacks import Accumulator, BatchResult
from datadiet.data.batches import LABEL_KEYS, POSITION_KEY, Data
from datadiet.dynamic.distributed import is_distributed
from datadiet.dynamic.pruner import DynamicPruner
from datadiet.dynamic.scoring import check_score_precision, enter_epoch, learns_from_batches
from datadiet.integrations import check_pruning_options, gather_result

__all__ = ["AccumulatorCallback", "DynamicPruningCallback", "batch_result", "per_example_losses",
           "positions_and_labels"]

A = TypeVar("A", bound=Accumulator)


class DynamicPruningCallback(pl.Callback):
    """Drive ``pruner``, the train ``DataLoader``'s sampler, through a Lightning fit.

    Args:
        pruner: the sampler of the train ``DataLoader`` (build it on ``WithPositions(train_set)``). Its number of
            replicas and rank are taken from the trainer when the fit starts (built before the process group
            exists, it says 1 and 0).
        score_source: ``"pass"`` (the paper's rule): a scoring pass over ``score_data`` at each checkpoint, with
            the LightningModule's ``forward`` (it must return logits ``(B, K)``); ``"batch"``: the training step's
            per-example losses (``"losses"``, or the cross-entropy of ``"logits"``, in what it returns). Default:
            the policy's own (``"pass"``; InfoBatch: ``"batch"``).
        score_data: all N training examples in position order, in any form :func:`~datadiet.dynamic.scoring_pass`
            takes (un-augmented); needed by ``"pass"`` when the policy ranks by scores.
        batch_size: the scoring pass's batch size (default: the device's).
        score_precision: the scoring pass's forward precision, ``"fp32"`` or ``"bf16"`` (autocast).

    The next epoch is entered (and selected, scoring first if needed) at the end of the previous one, so that
    Lightning reads its exact length when it reloads the train ``DataLoader``. Attributes ``samples_trained`` and
    ``scoring_forward`` count the examples this process trained on and forwarded for scoring passes.
    """

    def __init__(self, pruner: DynamicPruner, *, score_source: str | None = None, score_data: Data | None = None,
                 batch_size: int | None = None, score_precision: str = "fp32") -> None:
        score_source = check_pruning_options(pruner, score_source, score_data, "the training step's per-example losses")
        self.pruner, self.score_source, self.score_data, self.batch_size = pruner, score_source, score_data, batch_size
        self.score_precision = check_score_precision(score_precision)
        self.samples_trained = 0
        self.scoring_forward = 0

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        pruner, epochs = self.pruner, self.pruner.schedule.epochs
        if epochs is not None and trainer.max_epochs != epochs:
            raise ValueError(f"the pruner was built for epochs={epochs} but Trainer(max_epochs={trainer.max_epochs})")
        if pruner.num_replicas == 1:
            pruner.num_replicas, pruner.rank = trainer.world_size, trainer.global_rank
        elif (pruner.num_replicas, pruner.rank) != (trainer.world_size, trainer.global_rank):
            raise ValueError(f"the pruner shards for num_replicas={pruner.num_replicas}, rank={pruner.rank}, but "
                             f"this process is rank {trainer.global_rank} of {trainer.world_size}")
        # The attribute is set on the Trainer by its data connector, not declared in the class.
        reload_every = trainer.reload_dataloaders_every_n_epochs  # type: ignore[attr-defined]
        if reload_every != 1 and self._lengths_vary(_max_epochs(trainer)):
            raise ValueError("the pruner changes the epoch length, which Lightning reads only when it loads the "
                             "train DataLoader: pass Trainer(reload_dataloaders_every_n_epochs=1)")

    def _lengths_vary(self, epochs: int | None) -> bool:
        if not self.pruner.policy.fixed_budget or epochs is None:
            return True
        return len({self.pruner.epoch_length(e) for e in range(epochs)}) > 1

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._enter(trainer.current_epoch, pl_module)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loader = trainer.train_dataloader
        samplers = (getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None))
        if not any(s is self.pruner for s in samplers):
            raise ValueError("the train DataLoader's sampler is not this pruner: build it as DataLoader(WithPositions("
                             "train_set), sampler=pruner, batch_size=...), and under DDP pass "
                             "Trainer(use_distributed_sampler=False) so that Lightning does not wrap it")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        positions, labels = positions_and_labels(batch)
        self.samples_trained += len(positions)
        if learns_from_batches(self.score_source):
            self.pruner.update(positions, per_example_losses(outputs, labels).cpu())

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        following, epochs = trainer.current_epoch + 1, _max_epochs(trainer)
        if (epochs is None or following < epochs) and not trainer.should_stop:
            self._enter(following, pl_module)

    def _enter(self, epoch: int, model: pl.LightningModule) -> None:
        """Score at a checkpoint that needs it, then make ``epoch``'s selection (every rank, in step)."""
        self.scoring_forward += enter_epoch(self.pruner, epoch, model, self.score_data, batch_size=self.batch_size,
                                            score_source=self.score_source, score_precision=self.score_precision)

    def state_dict(self) -> dict:
        return {"pruner": self.pruner.state_dict(), "samples_trained": self.samples_trained,
                "scoring_forward": self.scoring_forward}

    def load_state_dict(self, state_dict: dict) -> None:
        self.pruner.load_state_dict(state_dict["pruner"])
        self.samples_trained = int(state_dict["samples_trained"])
        self.scoring_forward = int(state_dict["scoring_forward"])


class AccumulatorCallback(pl.Callback, Generic[A]):
    """Feed ``accumulator`` from every training step of a Lightning fit with ``feed(accumulator, batch_result)``.

    E.g. ``AccumulatorCallback(ForgettingCounter(N), feed_forgetting)`` or ``AccumulatorCallback(
    TrainingDynamics(N, epochs), feed_dynamics)``. The training step must return ``"logits"`` (see the module
    docstring). Under DDP each step's results are all-gathered from every rank (in rank order) before they are fed,
    so every rank's accumulator holds the whole run. Its checkpointed state is the accumulator's, under a key made
    of the accumulator's type and ``name`` (give two accumulators of one type different names).
    """

    def __init__(self, accumulator: A, feed: Callable[[A, BatchResult], None], *, name: str = "") -> None:
        self.accumulator, self.feed, self.name = accumulator, feed, name

    @property
    def state_key(self) -> str:
        return self._generate_state_key(accumulator=type(self.accumulator).__name__, name=self.name)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        result = batch_result(outputs, batch, epoch=trainer.current_epoch, step=trainer.global_step - 1)
        self.feed(self.accumulator, gather_result(result) if is_distributed() else result)

    def state_dict(self) -> dict:
        return self.accumulator.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.accumulator.load_state_dict(state_dict)


def positions_and_labels(batch: Any) -> tuple[Tensor, Tensor]:
    """Positions ``(B,)`` (int64, CPU) and labels ``(B,)`` of a training batch ``(positions, x, y)`` or a dict."""
    if isinstance(batch, Mapping) and POSITION_KEY in batch:
        label = next((k for k in LABEL_KEYS if k in batch), None)
        if label is None:
            raise ValueError(f"a training batch has keys {sorted(batch)} but no 'label' or 'labels' key")
        positions, labels = batch[POSITION_KEY], batch[label]
    elif isinstance(batch, (tuple, list)) and len(batch) == 3:
        positions, _, labels = batch
    else:
        what = f"a dict with keys {sorted(batch)}" if isinstance(batch, Mapping) else f"a {type(batch).__name__}"
        raise ValueError(f"a training batch is {what}, with no positions: build the train DataLoader on "
                         "WithPositions(train_set), whose batches are (positions, x, y) or dicts with a 'position' key")
    positions, labels = torch.as_tensor(positions), torch.as_tensor(labels)
    if positions.shape != labels.shape or positions.dim() != 1:
        raise ValueError(f"a training batch's positions and labels must both have shape (B,), got "
                         f"{tuple(positions.shape)} and {tuple(labels.shape)}")
    return positions.cpu().long(), labels.long()


def per_example_losses(outputs: Any, labels: Tensor) -> Tensor:
    """The step's per-example losses ``(B,)``: its ``"losses"``, or the cross-entropy of its ``"logits"``."""
    outputs = outputs if isinstance(outputs, Mapping) else {}
    if "losses" in outputs:
        losses = torch.as_tensor(outputs["losses"]).detach()
    elif "logits" in outputs:
        losses = F.cross_entropy(outputs["logits"].detach().float(), labels.to(outputs["logits"].device),
                                 reduction="none")
    else:
        raise ValueError(f"training_step returned {_describe(outputs)}; return per-example losses too: "
                         '{"loss": losses.mean(), "losses": losses.detach(), "logits": logits.detach()}')
    if losses.shape != labels.shape:
        raise ValueError(f"training_step's 'losses' must have shape (B,) = {tuple(labels.shape)}, got "
                         f"{tuple(losses.shape)} (compute them with reduction='none')")
    return losses.float()


def batch_result(outputs: Any, batch: Any, *, epoch: int, step: int) -> BatchResult:
    """A :class:`~datadiet.callbacks.BatchResult` from a training step's ``outputs`` (with ``"logits"`` ``(B, K)``)
    and its ``batch`` (positions from ``WithPositions``)."""
    positions, labels = positions_and_labels(batch)
    if not isinstance(outputs, Mapping) or "logits" not in outputs:
        raise ValueError(f"training_step returned {_describe(outputs)}; recording needs the logits: "
                         '{"loss": loss, "logits": logits.detach()}')
    logits = outputs["logits"].detach()
    if logits.dim() != 2 or len(logits) != len(positions):
        raise ValueError(f"training_step's 'logits' must have shape (B, K) with B = {len(positions)}, got "
                         f"{tuple(logits.shape)}")
    labels = labels.to(logits.device)
    return BatchResult(positions, logits, labels, per_example_losses(outputs, labels), epoch, step)


def _max_epochs(trainer: pl.Trainer) -> int | None:
    """The fit's number of epochs, or None when it is bounded by steps only."""
    epochs = trainer.max_epochs
    return epochs if epochs is not None and epochs >= 0 else None


def _describe(outputs: Any) -> str:
    if isinstance(outputs, Mapping):
        return f"a dict with keys {sorted(outputs)}"
    return "a loss tensor" if isinstance(outputs, Tensor) else f"a {type(outputs).__name__}"
