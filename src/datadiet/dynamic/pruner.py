"""Dynamic data pruning as a ``torch.utils.data.Sampler``: train each period on a freshly selected subset.

Usage in any PyTorch loop::

    pruner = DynamicPruner(len(ds), policy="ucb", keep=0.3, period=2, epochs=20, labels=y)
    loader = DataLoader(ds, sampler=pruner, batch_size=128)
    for epoch in range(20):
        if pruner.needs_scores(epoch):                   # scoring pass at a checkpoint (the paper's rule)
            pruner.score_all(scoring_pass(model, ds))
        pruner.set_epoch(epoch)                          # selects at checkpoints, like DistributedSampler
        for positions, x, y in loader:                   # ds = WithPositions(your_dataset), or an IndexedDataset
            losses = F.cross_entropy(model(x), y, reduction="none")
            ...                                          # or pruner.update(positions, losses): no extra pass

Call ``set_epoch(epoch)`` at the start of every epoch; without it the pruner stays in its current epoch and
yields the same order again. Epoch length: k = max(1, keep N rounded half up) in pruned epochs, N in warm-up and
final full-data epochs, divided among replicas (see :mod:`~datadiet.dynamic.distributed`);
``epoch_length(e)`` gives it for any epoch, and ``total_steps(batch_size)`` the run's optimizer steps, so LR
schedules can be sized in advance (``len(loader) * epochs`` is wrong). InfoBatch sets its own size:
for an epoch whose selection is not made yet, ``len()`` / ``epoch_length`` are the size a selection from the
current losses would have, exact after ``set_epoch``.

Defaults versus the paper: a 1-epoch warm-up on all data before the first selection and class-balanced
selection (each class gets its share of k) guard against the class collapse that the paper's rule shows on
short runs. ``DynamicPruner(..., **PAPER_OPTIONS)`` is the paper's Algorithm 1 exactly. ``period`` and
``warmup_epochs`` left unset are the policy's (:class:`~datadiet.dynamic.base.Policy`'s ``default_*``): 10 and 1,
but for InfoBatch its own rule, a selection every epoch with no warm-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from datadiet.data.dataset import fingerprint
from datadiet.dynamic.base import Group, Policy, check_range
from datadiet.dynamic.distributed import is_distributed, merge_pending, replica_info, shard, shard_length
from datadiet.dynamic.registry import make_policy
from datadiet.dynamic.schedule import PruningSchedule
from datadiet.dynamic.tracker import LossTracker
from datadiet.selection.budget import class_budgets, fraction_count

__all__ = ["DynamicPruner", "PAPER_OPTIONS"]

PAPER_OPTIONS = {"warmup_epochs": 0, "class_balanced": False}
"""Options that turn our defaults into the paper's Algorithm 1 (no warm-up, one global ranking)."""

_SELECT, _SHUFFLE = 0, 1
_STATE_FORMAT = 1


def _final_epochs(policy: Policy, epochs: int | None, count: int | None, fraction: float | None) -> int:
    if count is not None and fraction is not None:
        raise ValueError("set at most one of final_full_epochs and final_full_fraction")
    if count is not None:
        return count
    fraction = policy.final_fraction if fraction is None else fraction
    check_range("final_full_fraction", fraction, 0.0, 1.0, low_open=False, high_open=True)
    if not fraction:
        return 0
    if epochs is None:
        raise ValueError(f"a final full-data fraction ({fraction:g}, policy {policy.name!r}) needs epochs=...; "
                         "or pass final_full_epochs=0")
    return fraction_count(fraction, epochs)


class DynamicPruner(Sampler[int]):
    """Yields this epoch's positions: a re-selected subset every ``period`` epochs, shuffled each epoch.

    Args:
        num_examples: N, the size of the training set (positions ``0..N-1``).
        policy: a name (``random``, ``uncertainty``, ``uncertainty-ema``, ``egreedy``, ``ucb``, ``infobatch``)
            with hyper-parameters in ``policy_options``, or a :class:`Policy` object.
        keep: fraction of examples kept in (0, 1] (not for InfoBatch, which sets its own size).
        period: T_p, epochs between selections (checkpoints); default the policy's (10, the paper's; InfoBatch 1).
        seed: selections and shuffles are deterministic functions of (seed, epoch) and the scores.
        epochs: total number of epochs; needed by a final full-data phase (InfoBatch's default).
        labels: ``(N,)`` int labels, needed by class-balanced selection.
        class_balanced: select within each class on its share of k. None (default): True whenever the policy
            selects a fixed budget (random, uncertainty, EMA, egreedy, UCB).
        warmup_epochs: epochs on all data before the first selection; default the policy's (1; the paper and
            InfoBatch: 0).
        final_full_epochs / final_full_fraction: epochs (or fraction of ``epochs``, rounded half up) on all data
            at the end, replacing the policy's (InfoBatch: its delta, 0.125; others 0).
        num_replicas, rank, drop_last: distributed sharding like ``DistributedSampler`` (from the process group
            by default). Every rank makes the same selection; see :mod:`~datadiet.dynamic.distributed`.
    """

    def __init__(
        self, num_examples: int, *, policy: str | Policy, keep: float | None = None, period: int | None = None,
        seed: int = 0, epochs: int | None = None, labels: torch.Tensor | np.ndarray | None = None,
        class_balanced: bool | None = None, warmup_epochs: int | None = None, final_full_epochs: int | None = None,
        final_full_fraction: float | None = None, policy_options: Mapping[str, Any] | None = None,
        num_replicas: int | None = None, rank: int | None = None, drop_last: bool = False,
    ) -> None:
        if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
            raise ValueError(f"num_examples must be a positive integer, got {num_examples!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        super().__init__()
        self.num_examples, self.seed = num_examples, seed
        self.policy = make_policy(policy, policy_options)
        self.k = self._budget(keep)
        self.schedule = PruningSchedule(
            self.policy.default_period if period is None else period,
            self.policy.default_warmup_epochs if warmup_epochs is None else warmup_epochs,
            _final_epochs(self.policy, epochs, final_full_epochs, final_full_fraction), epochs,
        )
        self.labels = self._labels(labels)
        self.class_balanced = self._balanced(class_balanced)
        self.policy.check(num_examples, self.k)
        self.groups = self._groups()
        self.num_replicas, self.rank = replica_info(num_replicas, rank)
        self.drop_last = bool(drop_last)
        self.tracker = LossTracker(num_examples, self.policy.ema_alpha)
        self.counts = torch.zeros(num_examples, dtype=torch.long)
        self.num_checkpoints = 0
        self._epoch = 0
        self._checkpoint: int | None = None
        self._selection = torch.arange(num_examples)
        self._weights = torch.ones(num_examples)

    # -- construction helpers -------------------------------------------------------------------------------

    def _budget(self, keep: float | None) -> int | None:
        if not self.policy.fixed_budget:
            if keep is not None:
                raise ValueError(f"policy {self.policy.name!r} sets its own epoch size; leave keep unset")
            return None
        if keep is None:
            raise ValueError(f"policy {self.policy.name!r} needs keep, the fraction of examples kept, in (0, 1]")
        check_range("keep", keep, 0.0, 1.0, low_open=True, high_open=False)
        return max(1, fraction_count(keep, self.num_examples))

    def _labels(self, labels: torch.Tensor | np.ndarray | None) -> torch.Tensor | None:
        if labels is None:
            return None
        labels = torch.as_tensor(labels).cpu()
        if labels.shape != (self.num_examples,) or labels.dtype.is_floating_point or int(labels.min()) < 0:
            raise ValueError(f"labels must be non-negative integers of shape ({self.num_examples},), got "
                             f"{labels.dtype} {tuple(labels.shape)}")
        return labels.long()

    def _balanced(self, class_balanced: bool | None) -> bool:
        if class_balanced is None:
            class_balanced = self.policy.class_balanced_ok and self.policy.fixed_budget
        if class_balanced and not (self.policy.class_balanced_ok and self.policy.fixed_budget):
            raise ValueError(f"policy {self.policy.name!r} has no class-balanced variant; use class_balanced=False")
        if class_balanced and self.labels is None:
            raise ValueError("class-balanced selection (the default for this policy) needs labels=(N,) class "
                             "labels; pass them, or class_balanced=False for the paper's global ranking")
        return bool(class_balanced)

    def _groups(self) -> list[Group]:
        if not self.class_balanced:  # a policy that sets its own size may select up to all N
            return [(torch.arange(self.num_examples), self.k if self.k is not None else self.num_examples)]
        labels, k = self.labels, self.k
        assert labels is not None and k is not None  # _balanced() allows class balance only with both
        classes, budgets = class_budgets(labels.numpy(), k)
        return [((labels == int(c)).nonzero().squeeze(1), int(b)) for c, b in zip(classes, budgets) if b]

    def config(self) -> dict:
        """Everything that determines the selections (compared when a state dict is loaded)."""
        s = self.schedule
        return {
            "num_examples": self.num_examples, "k": self.k, "policy": self.policy.name,
            "policy_options": self.policy.options(), "period": s.period, "warmup_epochs": s.warmup_epochs,
            "final_full_epochs": s.final_full_epochs, "epochs": s.epochs, "seed": self.seed,
            "class_balanced": self.class_balanced,
            "labels": None if self.labels is None else fingerprint(self.labels),
        }

    # -- scores ---------------------------------------------------------------------------------------------

    def score_all(self, losses: torch.Tensor) -> None:
        """Record a scoring pass: the current loss of every example, shape ``(N,)`` (high = uncertain)."""
        if losses.shape != (self.num_examples,):
            raise ValueError(f"score_all needs losses of shape ({self.num_examples},), got {tuple(losses.shape)}")
        self.tracker.observe_all(losses)

    def start_from(self, scores: torch.Tensor | np.ndarray) -> None:
        """Take static ``scores`` ``(N,)`` (e.g. EL2N; high = keep) as the first observation: EMA = scores,
        variance 0. Call it before the first epoch. Without a warm-up, epoch 0's selection is made from them now and
        needs no scoring pass; after a warm-up they are the prior that the first checkpoint's pass updates.
        """
        if not self.policy.needs_scores:
            raise ValueError(f"policy {self.policy.name!r} does not rank by scores: nothing to start from")
        if self._epoch or self._checkpoint is not None:
            raise ValueError("start_from must be called before the first epoch")
        self.score_all(torch.as_tensor(scores, dtype=torch.float32))
        self.tracker.step()  # the same scores folded in again at a checkpoint change neither EMA nor variance
        self.set_epoch(0)

    def update(self, indices: torch.Tensor, losses: torch.Tensor) -> None:
        """Record training-batch losses ``(B,)`` of the examples at positions ``indices`` ``(B,)``.

        Examples not seen since the last checkpoint keep their last loss; never-seen ones rank first.
        """
        indices = torch.as_tensor(indices).cpu().long()
        if indices.shape != losses.shape or indices.dim() != 1:
            raise ValueError(f"indices and losses must both have shape (B,), got {tuple(indices.shape)} and "
                             f"{tuple(losses.shape)}")
        if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= self.num_examples):
            raise ValueError(f"indices must be positions in [0, {self.num_examples})")
        self.tracker.observe(indices, losses)

    def stale_positions(self) -> torch.Tensor:
        """Positions ``(m,)`` not given to :meth:`update` since the last checkpoint, in increasing order: what a
        partial scoring pass (``score_source="stale"``) forwards before the next selection."""
        return (~self.tracker.pending).nonzero().squeeze(1)

    def needs_scores(self, epoch: int) -> bool:
        """True if ``set_epoch(epoch)`` will make a selection that uses scores (run the scoring pass first)."""
        checkpoint = self.schedule.checkpoint_of(epoch)
        return self.policy.needs_scores and checkpoint is not None and checkpoint != self._checkpoint

    # -- epochs ---------------------------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-based, never backwards); at a checkpoint this makes the new selection."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < self._epoch:
            raise ValueError(f"epoch must be an integer >= the current epoch {self._epoch}, got {epoch!r} "
                             "(load a state dict to go back)")
        self._epoch = epoch
        self._ensure_selection()

    def _generator(self, epoch: int, stream: int) -> torch.Generator:
        state = np.random.SeedSequence([self.seed, epoch, stream]).generate_state(2, dtype=np.uint32)
        return torch.Generator().manual_seed(int(state[0]) << 31 | int(state[1]) >> 1)

    def _ensure_selection(self) -> None:
        checkpoint = self.schedule.checkpoint_of(self._epoch)
        if checkpoint is None or checkpoint == self._checkpoint:
            return
        if is_distributed():
            self.tracker.latest = merge_pending(self.tracker.latest, self.tracker.pending)
        self.tracker.pending.zero_()
        if self.policy.needs_scores:
            self.tracker.step()
        selection = self.policy.select(self.tracker, self.k, self._generator(checkpoint, _SELECT), self.groups)
        self._selection = selection.positions
        self._weights = torch.ones(self.num_examples)
        self._weights[selection.positions] = selection.weights
        self.counts[selection.positions] += 1
        self.num_checkpoints += 1
        self._checkpoint = checkpoint

    @property
    def selection(self) -> torch.Tensor:
        """Positions ``(m,)`` of the latest selection (all N before the first)."""
        return self._selection

    def epoch_positions(self) -> torch.Tensor:
        """This replica's positions for the current epoch, in training order, int64."""
        self._ensure_selection()
        full = self.schedule.is_full(self._epoch)
        base = torch.arange(self.num_examples) if full else self._selection
        order = base[torch.randperm(len(base), generator=self._generator(self._epoch, _SHUFFLE))]
        return shard(order, self.num_replicas, self.rank, self.drop_last)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_positions().tolist())

    def epoch_length(self, epoch: int) -> int:
        """Number of positions this replica yields in ``epoch``."""
        checkpoint = self.schedule.checkpoint_of(epoch)
        if checkpoint is None:
            n = self.num_examples
        elif checkpoint == self._checkpoint:
            n = len(self._selection)
        else:
            n = self.policy.expected_size(self.tracker, self.k)
        return shard_length(n, self.num_replicas, self.drop_last)

    def __len__(self) -> int:
        return self.epoch_length(self._epoch)

    def steps_per_epoch(self, epoch: int, batch_size: int, *, drop_last: bool = False) -> int:
        """Optimizer steps this replica takes in ``epoch`` with a ``DataLoader(batch_size=..., drop_last=...)``."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        n = self.epoch_length(epoch)
        return n // batch_size if drop_last else -(-n // batch_size)

    def total_steps(self, batch_size: int, *, drop_last: bool = False) -> int:
        """Optimizer steps of the whole run (all ``epochs``), to size a schedule: ``OneCycleLR(total_steps=...)``.

        The pruner changes the epoch length (all N in warm-up epochs, k after), so ``len(loader) * epochs`` is
        wrong. Exact for the policies with a fixed budget; InfoBatch sets each epoch's size from the losses, so its
        total is not known in advance (raises ``ValueError``; size per epoch with :meth:`steps_per_epoch` after
        ``set_epoch``, or take the full-data bound ``epochs * ceil(N / batch_size)``).
        """
        if self.schedule.epochs is None:
            raise ValueError("total_steps needs the number of epochs: DynamicPruner(..., epochs=...)")
        if not self.policy.fixed_budget:
            raise ValueError(f"policy {self.policy.name!r} sets each epoch's size from the losses, so the run's "
                             "steps are not known in advance; use steps_per_epoch(epoch, batch_size) after "
                             "set_epoch, or the full-data bound")
        return sum(self.steps_per_epoch(e, batch_size, drop_last=drop_last) for e in range(self.schedule.epochs))

    def loss_weights(self, indices: torch.Tensor) -> torch.Tensor:
        """Loss weights ``(B,)`` (float32, on ``indices``' device) for this epoch; ones unless InfoBatch."""
        if self.schedule.is_full(self._epoch):
            return torch.ones(len(indices), device=indices.device)
        return self._weights[indices.cpu().long()].to(indices.device)

    # -- state ----------------------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything a resumed run needs to continue with identical selections (tensors and plain values)."""
        return {
            "format": _STATE_FORMAT, "config": self.config(), "epoch": self._epoch,
            "checkpoint": -1 if self._checkpoint is None else self._checkpoint,
            "num_checkpoints": self.num_checkpoints, "counts": self.counts.clone(),
            "selection": self._selection.clone(), "weights": self._weights.clone(),
            "tracker": self.tracker.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; raise ``ValueError`` if it was made with a different configuration."""
        if state.get("format") != _STATE_FORMAT:
            raise ValueError(f"unknown pruner state format {state.get('format')!r}; expected {_STATE_FORMAT}")
        mine, theirs = self.config(), state["config"]
        differ = sorted(key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key))
        if differ:
            detail = "; ".join(f"{key}: saved {theirs.get(key)!r}, now {mine.get(key)!r}" for key in differ)
            raise ValueError(f"pruner state was saved with a different configuration ({detail})")
        self.tracker.load_state_dict(state["tracker"])
        self._epoch = int(state["epoch"])
        self._checkpoint = None if state["checkpoint"] < 0 else int(state["checkpoint"])
        self.num_checkpoints = int(state["num_checkpoints"])
        self.counts = state["counts"].clone().long()
        self._selection = state["selection"].clone().long()
        self._weights = state["weights"].clone().float()
