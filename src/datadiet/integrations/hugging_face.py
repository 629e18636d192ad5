"""Dynamic pruning and per-example recording with the Hugging Face ``transformers.Trainer``.

A ``TrainerCallback`` sees no batch, and the ``Trainer`` has no public way to take a sampler, so there are two
parts. The callbacks, :class:`DynamicPruningCallback` and :class:`AccumulatorCallback`, do the work; the one thing
you change is the class: :class:`PerExampleTrainer` is a ``Trainer`` subclass that you opt into. It overrides
three methods the ``Trainer`` documents for subclassing (``get_train_dataloader``, ``compute_loss``,
``create_scheduler``) and nothing else; your model, data, collator and arguments are used as they are::

    pruner = DynamicPruner(len(train_set), policy="ucb", keep=0.3, period=2, epochs=10, labels=labels_of(train_set))
    dynamics = TrainingDynamics(len(train_set), epochs=10, keep_probabilities=True)
    trainer = PerExampleTrainer(model=model, args=TrainingArguments(..., num_train_epochs=10), train_dataset=train_set,
                                callbacks=[DynamicPruningCallback(pruner, score_data=train_set),
                                           AccumulatorCallback(dynamics, feed_dynamics)])
    trainer.train()
    scores = el2n_at(dynamics.compute(), epoch=2)

What :class:`PerExampleTrainer` does:

- **sampler**: the training ``DataLoader`` reads the dataset (a ``datasets.Dataset`` or any map-style dataset of
  dicts) through the pruner of the :class:`DynamicPruningCallback` among its callbacks (without one: a seeded
  shuffle of all N per epoch, sharded by rank), with each example's position added to its item and removed again
  before the model is called. Unused columns are dropped as the ``Trainer`` does (``remove_unused_columns``);
  the ``data_collator`` sees the items without the position;
- **per-example results**: each training batch's positions, logits, labels and per-example cross-entropy go to
  every callback with an ``on_batch_end(result)`` method (a :class:`~datadiet.callbacks.BatchResult`). The loss
  that is optimized is still the model's (or your ``compute_loss_func``'s); InfoBatch's loss weights replace it by
  the weighted per-example cross-entropy;
- **schedule**: the ``Trainer``'s own learning-rate schedule is sized to the steps the pruner will really take
  (``pruner.total_steps``, per gradient-accumulation step). With your own ``optimizers=(optimizer, scheduler)``,
  size it yourself: ``num_training_steps=pruner.total_steps(per_device_train_batch_size)``.

The ``Trainer`` runs every epoch for at most as many steps as the first (its progress bar and ``state.max_steps``
count that many, more than are taken), so the first epoch must be the longest: a warm-up epoch on all data (the
pruner's default) does that. Set the length with ``num_train_epochs`` (the pruner's ``epochs``), not ``max_steps``.
Resuming a run from a ``Trainer`` checkpoint is not supported (its resume arithmetic assumes equal epochs).
Under DDP the pruner shards by rank (taken from the ``TrainingArguments``); :class:`AccumulatorCallback`
all-gathers each batch so every rank's accumulator holds the whole run.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, MutableMapping, Sequence, Sized
from typing import Any, Generic, TypeVar

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler

try:
    from transformers import Trainer, TrainerCallback
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError('datadiet.integrations.hugging_face needs transformers: pip install "datadiet[hf]"') from err

from datadiet.callbacks import Accumulator, BatchResult
from datadiet.data.batches import LABEL_KEYS, POSITION_KEY, Data, WithPositions
from datadiet.data.model_calls import logits_of
from datadiet.dynamic.distributed import is_distributed
from datadiet.dynamic.pruner import DynamicPruner
from datadiet.dynamic.scoring import check_score_precision, enter_epoch, learns_from_batches
from datadiet.integrations import check_pruning_options, gather_result

__all__ = ["AccumulatorCallback", "DynamicPruningCallback", "PerExampleTrainer"]

A = TypeVar("A", bound=Accumulator)


class DynamicPruningCallback(TrainerCallback):
    """Drive ``pruner``, the training sampler of a :class:`PerExampleTrainer`, through ``trainer.train()``.

    Args:
        pruner: a :class:`~datadiet.dynamic.DynamicPruner` over the N examples of ``train_dataset``.
        score_source: ``"pass"`` (the paper's rule): a scoring pass over ``score_data`` at each checkpoint, the model
            called as ``model(**inputs)``; ``"batch"``: the training batches' per-example cross-entropy. Default:
            the policy's own (``"pass"``; InfoBatch: ``"batch"``).
        score_data: the training set in position order, in any form :func:`~datadiet.dynamic.scoring_pass` takes
            (a ``datasets.Dataset`` in the torch format, or ``DictBatches(dataset, inputs=[...], label=...)`` to
            name the columns); needed by ``"pass"`` when the policy ranks by scores.
        batch_size: the scoring pass's batch size (default: the device's).
        score_precision: the scoring pass's forward precision, ``"fp32"`` or ``"bf16"`` (autocast).

    Attributes ``samples_trained`` and ``scoring_forward`` count the examples this process trained on and
    forwarded for scoring passes.
    """

    def __init__(self, pruner: DynamicPruner, *, score_source: str | None = None, score_data: Data | None = None,
                 batch_size: int | None = None, score_precision: str = "fp32") -> None:
        score_source = check_pruning_options(pruner, score_source, score_data,
                                             "the training batches' per-example losses")
        self.pruner, self.score_source, self.score_data, self.batch_size = pruner, score_source, score_data, batch_size
        self.score_precision = check_score_precision(score_precision)
        self.epoch = 0
        self.samples_trained = 0
        self.scoring_forward = 0

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        _refuse_resume(state)
        self.epoch = 0

    def on_epoch_begin(self, args, state, control, model=None, **kwargs) -> None:
        self.scoring_forward += enter_epoch(self.pruner, self.epoch, model, self.score_data,
                                            batch_size=self.batch_size, score_source=self.score_source,
                                            score_precision=self.score_precision)

    def on_batch_end(self, result: BatchResult) -> None:
        """Count the batch, and with ``score_source="batch"`` give its losses to the pruner."""
        self.samples_trained += len(result.positions)
        if learns_from_batches(self.score_source):
            self.pruner.update(result.positions, result.losses.cpu())

    def on_epoch_end(self, args, state, control, **kwargs) -> None:
        self.epoch += 1


class AccumulatorCallback(TrainerCallback, Generic[A]):
    """Feed ``accumulator`` from every training batch of a :class:`PerExampleTrainer` with ``feed(accumulator,
    batch_result)``, e.g. ``AccumulatorCallback(TrainingDynamics(N, epochs, keep_probabilities=True),
    feed_dynamics)`` for EL2N at an epoch. Under DDP each batch is all-gathered from every rank first."""

    def __init__(self, accumulator: A, feed: Callable[[A, BatchResult], None]) -> None:
        self.accumulator, self.feed = accumulator, feed

    def on_batch_end(self, result: BatchResult) -> None:
        self.feed(self.accumulator, gather_result(result) if is_distributed() else result)


class _Epochs(TrainerCallback):
    """Counts the epochs of a training run and enters each in the training sampler (``set_epoch``)."""

    def __init__(self, sampler: DistributedSampler | DynamicPruner) -> None:
        self.sampler, self.epoch = sampler, 0

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        _refuse_resume(state)
        self.epoch = 0

    def on_epoch_begin(self, args, state, control, **kwargs) -> None:
        self.sampler.set_epoch(self.epoch)

    def on_epoch_end(self, args, state, control, **kwargs) -> None:
        self.epoch += 1


class PerExampleTrainer(Trainer):
    """A ``transformers.Trainer`` that trains on datadiet's sampler and reports per-example results (see the module
    docstring). A subclass you opt into: it overrides the documented ``get_train_dataloader``, ``compute_loss`` and
    ``create_scheduler``; every argument is ``Trainer``'s.

    Attributes:
        pruner: the pruner of the :class:`DynamicPruningCallback` among the callbacks, or None (all data).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pruning = [cb for cb in self.callback_handler.callbacks if isinstance(cb, DynamicPruningCallback)]
        if len(pruning) > 1:
            raise ValueError(f"{len(pruning)} DynamicPruningCallback objects among the callbacks; give one")
        self.pruner = pruning[0].pruner if pruning else None
        if self.train_dataset is None:
            raise ValueError("PerExampleTrainer needs a train_dataset (a map-style dataset of dicts)")
        if self.pruner is None:
            self.sampler: DistributedSampler | DynamicPruner = DistributedSampler(
                self.train_dataset, num_replicas=self.args.world_size, rank=self.args.process_index, shuffle=True,
                seed=self.args.seed, drop_last=self.args.dataloader_drop_last)
        else:
            self._check_pruner(self.pruner)
            self.sampler = self.pruner
        self._epochs = _Epochs(self.sampler)
        self.add_callback(self._epochs)

    def _check_pruner(self, pruner: DynamicPruner) -> None:
        if not isinstance(self.train_dataset, Sized):
            raise ValueError("with a pruner, the train_dataset must be a map-style dataset with a length")
        if len(self.train_dataset) != pruner.num_examples:
            raise ValueError(f"the train_dataset has {len(self.train_dataset)} examples but the pruner was built "
                             f"for {pruner.num_examples}")
        epochs = pruner.schedule.epochs
        if self.args.max_steps > 0:
            raise ValueError("with a pruner, set the run's length with num_train_epochs, not max_steps (the "
                             "Trainer would count epochs as long as the first)")
        if epochs is not None and self.args.num_train_epochs != epochs:
            raise ValueError(f"the pruner was built for epochs={epochs} but num_train_epochs="
                             f"{self.args.num_train_epochs}")
        world, rank = self.args.world_size, self.args.process_index
        if pruner.num_replicas == 1:
            pruner.num_replicas, pruner.rank = world, rank
        elif (pruner.num_replicas, pruner.rank) != (world, rank):
            raise ValueError(f"the pruner shards for num_replicas={pruner.num_replicas}, rank={pruner.rank}, but "
                             f"this process is rank {rank} of {world}")
        lengths = [pruner.epoch_length(e) for e in range(epochs or 1)]
        if max(lengths) > lengths[0]:
            raise ValueError(f"the Trainer runs every epoch for at most as many steps as the first, but the "
                             f"pruner's epoch 0 has {lengths[0]} examples and a later one {max(lengths)}: start "
                             "with a warm-up epoch on all data (warmup_epochs >= 1)")

    def planned_steps(self) -> int:
        """Optimizer steps the run will take with the pruner (per gradient-accumulation step)."""
        pruner, args = self.pruner, self.args
        if pruner is None or not pruner.policy.fixed_budget:
            raise ValueError("planned_steps needs a pruner with a fixed budget (InfoBatch sizes its epochs from "
                             "the losses)")
        epochs = pruner.schedule.epochs
        if epochs is None:
            raise ValueError("planned_steps needs a pruner built with epochs=<num_train_epochs>")
        per_epoch = (pruner.steps_per_epoch(e, args.train_batch_size, drop_last=args.dataloader_drop_last)
                     for e in range(epochs))
        return sum(math.ceil(steps / args.gradient_accumulation_steps) for steps in per_epoch)

    def get_train_dataloader(self) -> DataLoader:
        """The training ``DataLoader``: ``train_dataset`` read through the sampler, positions added to each batch."""
        keep = self._columns() if self.args.remove_unused_columns else None
        if self.train_dataset is None:
            raise ValueError("PerExampleTrainer needs a train_dataset (a map-style dataset of dicts)")
        return DataLoader(
            WithPositions(self.train_dataset), batch_size=self.args.train_batch_size, sampler=self.sampler,
            collate_fn=_PositionsCollator(self.data_collator, keep), drop_last=self.args.dataloader_drop_last,
            num_workers=self.args.dataloader_num_workers, pin_memory=self.args.dataloader_pin_memory,
            persistent_workers=self.args.dataloader_persistent_workers and self.args.dataloader_num_workers > 0,
        )

    def _columns(self) -> frozenset[str]:
        """The item keys the model accepts, and the label keys (``remove_unused_columns``)."""
        names = inspect.signature(self.accelerator.unwrap_model(self.model).forward).parameters
        return frozenset([*names, *LABEL_KEYS, "label_ids", *(self.label_names or [])])

    # Takes whatever keywords the installed Trainer passes (num_items_in_batch only since transformers 4.46).
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):  # type: ignore[override]
        """The ``Trainer``'s loss; for a training batch, also report its per-example results to the callbacks."""
        positions = inputs.pop(POSITION_KEY, None) if isinstance(inputs, MutableMapping) else None
        if positions is None or not model.training:
            return super().compute_loss(model, inputs, return_outputs=return_outputs, **kwargs)
        labels = inputs.get("labels")
        if labels is None:
            raise ValueError(f"a training batch has keys {sorted(inputs)} but no 'labels': per-example results "
                             "need the class labels (a 'label' or 'labels' column)")
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, **kwargs)
        logits = logits_of(outputs)
        losses = F.cross_entropy(logits.float(), labels, reduction="none")
        if self.pruner is not None and self.pruner.policy.reweights:
            loss = (losses * self.pruner.loss_weights(positions).to(losses.device)).mean()
        result = BatchResult(positions.cpu().long(), logits.detach(), labels, losses.detach(), self._epochs.epoch,
                             self.state.global_step)
        for callback in self.callback_handler.callbacks:
            if callable(getattr(callback, "on_batch_end", None)):
                callback.on_batch_end(result)
        return (loss, outputs) if return_outputs else loss

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None):
        """The ``Trainer``'s schedule over the steps the pruner will take (fixed budgets; InfoBatch: as given)."""
        if self.pruner is not None and self.pruner.policy.fixed_budget:
            num_training_steps = self.planned_steps()
        return super().create_scheduler(num_training_steps=num_training_steps, optimizer=optimizer)


class _PositionsCollator:
    """Takes the position off each item (and the columns not in ``keep``), collates the rest with ``collate``, and
    puts the positions ``(B,)`` back on the batch."""

    def __init__(self, collate: Callable[[list], Any], keep: frozenset[str] | None) -> None:
        self.collate, self.keep = collate, keep

    def __call__(self, items: Sequence[Mapping[str, Any]]) -> Any:
        positions = torch.tensor([item[POSITION_KEY] for item in items])
        rest = [{k: v for k, v in item.items() if k != POSITION_KEY and (self.keep is None or k in self.keep)}
                for item in items]
        batch = self.collate(rest)
        batch[POSITION_KEY] = positions
        return batch


def _refuse_resume(state) -> None:
    if state.global_step > 0:
        raise ValueError("resuming from a Trainer checkpoint is not supported with datadiet's callbacks: the "
                         "Trainer's resume arithmetic assumes every epoch is as long as the first")
