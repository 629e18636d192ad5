"""One recording of training dynamics, from which every dynamics score is derived without retraining.

:class:`TrainingDynamics` is an accumulator (``update / compute / reset / state_dict``) fed with each training
batch's positions, logits and labels and the epoch. It keeps, per example and per epoch, what the scores in
:mod:`datadiet.scores.dynamics` need:

- ``true_prob``: softmax probability of the labelled class, ``p_y``;
- ``margin``: logit margin ``z_y - max_{k != y} z_k`` (the margin of AUM, Pleiss et al. 2020);
- ``loss``: cross-entropy ``-log p_y``;
- ``correct``: ``argmax_k z_k == y`` (the event of forgetting, Toneva et al. 2019), one bit;
- ``probabilities``: the whole softmax vector ``(K,)``, only with ``keep_probabilities=True`` (EL2N, TDDS and
  entropy need it).

**Footprint**: float16 values and a bitset, so 2 + 2 + 2 bytes + 1 bit = **6.125 bytes per example per epoch**,
plus ``2 K`` bytes with the probabilities (26.125 bytes for K = 10), plus 8 bytes per example for the labels.
N = 60,000 over 30 epochs: 11.5 MB, or 47.5 MB with 10-class probabilities, as measured by
``benchmarks/bench_recording_memory.py``; ``compute()`` briefly holds a second copy. Epoch rows are allocated when
an epoch is first seen; float16 saturates at +-65504.

**Presentations**: the last presentation of an example within an epoch wins (also within one batch); an example
not presented in an epoch stays missing there (NaN values, bit 0). A recording made from training batches sees
the training forward pass (augmented inputs, the network in training mode), as Toneva et al., Swayamdipta et al.
and Pleiss et al. record it.

``compute()`` returns a :class:`DynamicsRecording` (plain NumPy arrays), which saves to an ``.npz`` file with its
provenance (a JSON record) and loads without pickle, so scores can be derived again later.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike

from datadiet.callbacks import BatchResult
from datadiet.scores.recording_file import DynamicsRecording

__all__ = ["DynamicsRecording", "TrainingDynamics", "feed_dynamics"]

_FIELDS = ("true_prob", "margin", "loss")
_FLOAT16_MAX = 65504.0


class TrainingDynamics:
    """Records per example and per epoch what the dynamics scores need, in float16 and a correctness bitset.

    Args:
        num_examples: dataset size N (positions ``0..N-1``).
        epochs: if given, the number of epochs the run will record; a larger epoch is an error. ``None``: any.
        keep_probabilities: also keep the softmax vector ``(K,)`` per example and epoch (2 K bytes more).

    ``update(positions, logits, labels, epoch)`` records one batch; ``compute()`` returns a
    :class:`DynamicsRecording` of the epochs seen so far; ``state_dict`` holds tensors only (loads with
    ``torch.load(weights_only=True)``) and ``load_state_dict`` restores it exactly.
    """

    def __init__(self, num_examples: int, epochs: int | None = None, keep_probabilities: bool = False) -> None:
        if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
            raise ValueError(f"num_examples must be a positive integer, got {num_examples!r}")
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise ValueError(f"epochs must be a positive integer or None, got {epochs!r}")
        self.num_examples, self.epochs, self.keep_probabilities = num_examples, epochs, bool(keep_probabilities)
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded (keeps N, the epoch limit and whether probabilities are kept)."""
        self.rows: dict[str, list[torch.Tensor]] = {name: [] for name in (*_FIELDS, "correct", "probabilities")}
        self.labels = torch.full((self.num_examples,), -1, dtype=torch.int64)
        self.num_classes = 0

    @property
    def num_epochs(self) -> int:
        """Number of epoch rows recorded so far (the last epoch seen + 1)."""
        return len(self.rows["loss"])

    def update(self, positions: ArrayLike | torch.Tensor, logits: torch.Tensor, labels: ArrayLike | torch.Tensor,
               epoch: int) -> None:
        """Record one batch: positions ``(B,)``, logits ``(B, K)``, labels ``(B,)`` in epoch ``epoch`` (0-based)."""
        idx, z, y = self._checked(positions, logits, labels, epoch)
        idx, z, y = _last_presentations(idx, z, y)
        self._check_labels(idx, y)
        self._grow(epoch, z.shape[1])
        z = z.double()
        logp = torch.log_softmax(z, 1)
        others = z.scatter(1, y[:, None], -math.inf).max(1).values
        values = {"true_prob": logp.gather(1, y[:, None])[:, 0].exp(), "margin": z.gather(1, y[:, None])[:, 0] - others,
                  "loss": -logp.gather(1, y[:, None])[:, 0]}
        for name, value in values.items():
            self.rows[name][epoch][idx] = _half(value)
        if self.keep_probabilities:
            self.rows["probabilities"][epoch][idx] = _half(logp.exp())
        _write_bits(self.rows["correct"][epoch], idx, z.argmax(1) == y)
        self.labels[idx] = y

    def compute(self) -> DynamicsRecording:
        """The recording so far: ``(E, N)`` arrays for E = the last epoch seen + 1 (see :class:`DynamicsRecording`)."""
        state = self.state_dict()
        n, e = self.num_examples, self.num_epochs
        bits = state["correct"].numpy()
        correct = np.unpackbits(bits, axis=1, count=n, bitorder="little").astype(bool) if e else np.zeros((0, n), bool)
        probs = state["probabilities"].numpy() if self.keep_probabilities else None
        return DynamicsRecording(true_prob=state["true_prob"].numpy(), margin=state["margin"].numpy(),
                                 loss=state["loss"].numpy(), correct=correct, labels=self.labels.numpy().copy(),
                                 num_classes=self.num_classes, probabilities=probs)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only: ``true_prob``, ``margin``, ``loss`` float16 ``(E, N)``, ``correct`` uint8 ``(E, ceil(N/8))``
        (bit ``i % 8`` of byte ``i // 8``), ``labels`` int64 ``(N,)`` (-1 = never presented), ``num_classes`` 0-d,
        and ``probabilities`` float16 ``(E, N, K)`` when kept."""
        n, k = self.num_examples, self.num_classes
        empty = {"true_prob": (0, n), "margin": (0, n), "loss": (0, n), "correct": (0, _num_bytes(n)),
                 "probabilities": (0, n, k)}
        state = {name: torch.stack(rows) if rows else torch.empty(empty[name], dtype=_dtype(name))
                 for name, rows in self.rows.items() if name != "probabilities" or self.keep_probabilities}
        state.update(labels=self.labels.clone(), num_classes=torch.tensor(k))
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`state_dict`; it must come from a recorder of the same N and ``keep_probabilities``."""
        if len(state["labels"]) != self.num_examples:
            raise ValueError(f"the state records {len(state['labels'])} examples, this recorder {self.num_examples}")
        if ("probabilities" in state) != self.keep_probabilities:
            raise ValueError(f"the state {'has' if 'probabilities' in state else 'has no'} probabilities, this "
                             f"recorder keep_probabilities={self.keep_probabilities}")
        epochs = len(state["loss"])
        if self.epochs is not None and epochs > self.epochs:
            raise ValueError(f"the state holds {epochs} epochs, this recorder at most {self.epochs}")
        self.rows = {name: [row.clone() for row in state[name]] if name in state else []
                     for name in (*_FIELDS, "correct", "probabilities")}
        self.labels = state["labels"].clone()
        self.num_classes = int(state["num_classes"])

    def _checked(self, positions, logits, labels, epoch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(positions).detach().cpu()
        z = torch.as_tensor(logits).detach().cpu()
        y = torch.as_tensor(labels).detach().cpu()
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        if self.epochs is not None and epoch >= self.epochs:
            raise ValueError(f"epoch {epoch} is beyond the {self.epochs} epochs this recorder was made for "
                             f"(0..{self.epochs - 1})")
        if idx.ndim != 1 or z.ndim != 2 or y.shape != idx.shape or len(z) != len(idx):
            raise ValueError(f"expected positions (B,), logits (B, K) and labels (B,), got {tuple(idx.shape)}, "
                             f"{tuple(z.shape)} and {tuple(y.shape)}")
        if idx.dtype.is_floating_point or y.dtype.is_floating_point or not z.dtype.is_floating_point:
            raise ValueError(f"positions and labels must be integers and logits floating point, got {idx.dtype}, "
                             f"{y.dtype} and {z.dtype}")
        if z.shape[1] < 2 or (self.num_classes and z.shape[1] != self.num_classes):
            raise ValueError(f"logits must have {self.num_classes or 'at least 2'} classes, got {z.shape[1]}")
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= self.num_examples):
            raise ValueError(f"positions must be in [0, {self.num_examples}), got {int(idx.min())}..{int(idx.max())}")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= z.shape[1]):
            raise ValueError(f"labels must be in [0, {z.shape[1]}), got {int(y.min())}..{int(y.max())}")
        if not torch.isfinite(z).all():
            raise ValueError(f"logits must be finite, got {int((~torch.isfinite(z)).sum())} NaN or infinite values")
        return idx.long(), z, y.long()

    def _check_labels(self, idx: torch.Tensor, y: torch.Tensor) -> None:
        seen = self.labels[idx]
        changed = torch.nonzero((seen >= 0) & (seen != y)).flatten()
        if len(changed):
            i = int(changed[0])
            raise ValueError(f"position {int(idx[i])} was recorded with label {int(seen[i])} and now has "
                             f"{int(y[i])}; a recording needs fixed labels")

    def _grow(self, epoch: int, num_classes: int) -> None:
        """Allocate rows up to ``epoch`` (missing everywhere) and fix K at the first batch."""
        self.num_classes = num_classes
        n = self.num_examples
        while self.num_epochs <= epoch:
            for name in _FIELDS:
                self.rows[name].append(torch.full((n,), math.nan, dtype=torch.float16))
            self.rows["correct"].append(torch.zeros(_num_bytes(n), dtype=torch.uint8))
            if self.keep_probabilities:
                self.rows["probabilities"].append(torch.full((n, num_classes), math.nan, dtype=torch.float16))


def feed_dynamics(dynamics: TrainingDynamics, batch: BatchResult) -> None:
    """Record a training batch in ``dynamics`` (for ``AccumulatorCallback(dynamics, feed_dynamics)``)."""
    dynamics.update(batch.positions, batch.logits, batch.labels, batch.epoch)


def _last_presentations(idx: torch.Tensor, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The rows of a batch that are each position's last occurrence in it (a later presentation wins)."""
    unique, inverse = torch.unique(idx, return_inverse=True)
    if len(unique) == len(idx):
        return idx, z, y
    last = torch.full((len(unique),), -1, dtype=torch.int64)
    last = last.scatter_reduce(0, inverse, torch.arange(len(idx)), reduce="amax")
    return idx[last], z[last], y[last]


def _write_bits(bits: torch.Tensor, idx: torch.Tensor, values: torch.Tensor) -> None:
    """Set bit ``i % 8`` of byte ``i // 8`` of ``bits`` to ``values`` for distinct positions ``idx``."""
    byte, bit = idx // 8, (idx % 8)
    unique, inverse = torch.unique(byte, return_inverse=True)
    # distinct positions sharing a byte have distinct bits, so sums of powers of two are bitwise ORs
    clear = torch.zeros(len(unique), dtype=torch.int64).index_add_(0, inverse, 1 << bit)
    ones = torch.zeros(len(unique), dtype=torch.int64).index_add_(0, inverse, values.long() << bit)
    bits[unique] = ((bits[unique].long() & ~clear) | ones).to(torch.uint8)


def _half(values: torch.Tensor) -> torch.Tensor:
    return values.clamp(-_FLOAT16_MAX, _FLOAT16_MAX).to(torch.float16)


def _num_bytes(n: int) -> int:
    return (n + 7) // 8


def _dtype(name: str) -> torch.dtype:
    return torch.uint8 if name == "correct" else torch.float16
