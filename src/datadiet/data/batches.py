"""The one data boundary: any dataset, loader or tensor pair in; batches of positions, inputs and labels out.

Every score and the scoring pass take ``data`` in any of these forms (:data:`Data`):

- a pair ``(x (N, ...), y (N,))`` of tensors, a ``TensorDataset`` of ``(x, y)`` or ``(position, x, y)``, or an
  :class:`~datadiet.data.IndexedDataset`: sliced directly, the fastest path;
- any map-style ``Dataset`` whose items are ``(x, y)``, ``(position, x, y)`` or dicts: read in order through a
  ``DataLoader(shuffle=False)`` of the function's ``batch_size``;
- a ``DataLoader`` exactly as you built it (workers, ``collate_fn``, pinned memory): its batches are used as they
  come. One that does not iterate in order (``shuffle=True``, a custom sampler) must yield positions: build it on
  ``WithPositions(dataset)``;
- dict batches (Hugging Face style) through :class:`DictBatches`, which names the input and label keys (or
  computes them with callables); the model is called as ``model(**inputs)``. Dicts with a ``"label"`` or
  ``"labels"`` key work without it.

**Positions** are ``0..N-1`` in the dataset's order, one convention everywhere: scores come back in that order, and
the dynamic pruner's ``update(positions, losses)`` takes them. Data is streamed: at most a batch of inputs is held
in memory at once (plus whatever a ``DataLoader``'s workers prefetch). :mod:`datadiet.data.model_calls` calls the
model on these batches.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler, Subset, TensorDataset

from datadiet.data.dataset import IndexedDataset

__all__ = [
    "Batch", "Data", "DictBatches", "Inputs", "LABEL_KEYS", "POSITION_KEY", "WithPositions", "first_line",
    "iter_batches", "labels_of", "num_examples", "score_examples",
]

Inputs = Tensor | dict[str, Tensor]
"""A batch of model inputs: a tensor ``(B, ...)`` (``model(x)``), or a dict of tensors (``model(**inputs)``)."""
POSITION_KEY = "position"
LABEL_KEYS = ("label", "labels")
"""Label keys recognized in dict items without a :class:`DictBatches` adapter (Hugging Face's conventions)."""
EXPECTED_ITEM = "(x, y), (position, x, y) or a dict with a 'label' key"


@dataclass(frozen=True)
class Batch:
    """One batch: ``positions`` ``(B,)`` int64 on the CPU, ``inputs``, and int64 ``labels`` ``(B,)``."""

    positions: Tensor
    inputs: Inputs
    labels: Tensor

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class DictBatches:
    """Dict batches (Hugging Face style): which keys are the model's inputs and which is the label.

    Args:
        data: a map-style ``Dataset`` or a ``DataLoader`` whose items or batches are dicts.
        inputs: the keys passed to the model as ``model(**inputs)``; None (default) means every tensor-valued key
            except the label and ``"position"``; or a callable ``batch -> inputs`` (a tensor or a dict).
        label: the label key, or a callable ``batch -> labels (B,)``.
    """

    data: Any
    inputs: Sequence[str] | Callable[[Mapping[str, Any]], Inputs] | None = None
    label: str | Callable[[Mapping[str, Any]], Tensor] = "label"

    def split(self, batch: Mapping[str, Any]) -> tuple[Tensor | None, Inputs, Any]:
        """``(positions or None, inputs, labels)`` of one collated dict batch."""
        if callable(self.label):
            labels = self.label(batch)
        elif self.label in batch:
            labels = batch[self.label]
        else:
            raise ValueError(f"a dict batch has keys {sorted(batch)} but no label key {self.label!r}; name the "
                             "label with DictBatches(data, label=KEY)")
        if callable(self.inputs):
            inputs = self.inputs(batch)
        else:
            keys = self.inputs if self.inputs is not None else [
                k for k, v in batch.items() if isinstance(v, Tensor) and k not in (self.label, POSITION_KEY)]
            missing = [k for k in keys if k not in batch]
            if missing or not keys:
                raise ValueError(f"a dict batch has keys {sorted(batch)}; the inputs {missing or 'are empty'} are "
                                 "not among them: name them with DictBatches(data, inputs=[KEY, ...])")
            inputs = {k: batch[k] for k in keys}
        return batch.get(POSITION_KEY), inputs, labels


class WithPositions(Dataset):
    """``dataset``'s items with their position in front: ``(position, *item)``, or ``{**item, "position": i}``.

    Build a shuffling ``DataLoader`` (or one with the dynamic pruner as its sampler) on it, and every batch tells
    which examples it holds: ``for positions, x, y in loader: pruner.update(positions, losses)``.
    """

    def __init__(self, dataset: Dataset) -> None:
        if isinstance(dataset, IndexedDataset):
            raise ValueError("an IndexedDataset already yields (position, x, y): use it as it is")
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> Any:
        item = self.dataset[i]
        if isinstance(item, Mapping):
            return {**item, POSITION_KEY: i}
        if isinstance(item, (tuple, list)):
            return (i, *item)
        raise ValueError(f"item {i} of {type(self.dataset).__name__} is a {type(item).__name__}; expected a "
                         "tuple or a dict")


Data = IndexedDataset | tuple[Tensor, Tensor] | Dataset | DataLoader | DictBatches
"""Anything the scores accept; see the module docstring."""


def _source(data: Data) -> tuple[Any, DictBatches | None]:
    """The dataset or loader behind ``data``, and its dict adapter if any."""
    if isinstance(data, DictBatches):
        if _tensor_pair(data.data) is not None:
            raise ValueError(f"DictBatches needs a dataset or DataLoader of dict items, got a "
                             f"{type(data.data).__name__} of tensors: pass it without the adapter")
        return data.data, data
    return data, None


def _tensor_pair(data: Any) -> tuple[Tensor, Tensor, Tensor | None] | None:
    """``(x, y, positions or None)`` for data held as tensors, else None."""
    if isinstance(data, IndexedDataset):
        return data.x, data.y, None
    if isinstance(data, TensorDataset) and len(data.tensors) in (2, 3):
        if len(data.tensors) == 3 and not torch.equal(data.tensors[0].cpu().long(), torch.arange(len(data))):
            raise ValueError("a TensorDataset of three tensors holds (position, x, y): its first tensor must be "
                             f"the positions 0..{len(data) - 1} in order")
        return data.tensors[-2], data.tensors[-1], data.tensors[0] if len(data.tensors) == 3 else None
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        x, y = data
        if len(x) != len(y):
            raise ValueError(f"need x of shape (N, ...) and y of shape (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
        return x, y, None
    return None


def num_examples(data: Data) -> int:
    """N, the number of examples of ``data``."""
    source, _ = _source(data)
    pair = _tensor_pair(source)
    if pair is not None:
        return len(pair[1])
    dataset = source.dataset if isinstance(source, DataLoader) else source
    if isinstance(dataset, (Tensor, str, bytes, Mapping)) or not (
            hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise ValueError(f"cannot score a {type(dataset).__name__}: valid data is a pair (x, y) of tensors, a "
                         "map-style Dataset with a length (torch or Hugging Face), a DataLoader over one, or "
                         "DictBatches(...) of either")
    return len(dataset)


def iter_batches(data: Data, *, batch_size: int, positions: Tensor | None = None) -> Generator[Batch, None, None]:
    """Batches of ``data`` in order (a user's ``DataLoader``: in its own order and batch size).

    ``positions`` restricts the batches to those examples, in that order (not for a ``DataLoader``).
    """
    source, adapter = _source(data)
    pair = _tensor_pair(source)
    if pair is not None:
        yield from _tensor_batches(*pair, batch_size, positions)
        return
    num_examples(data)
    if isinstance(source, DataLoader):
        if positions is not None:
            raise ValueError("a DataLoader is read as it is built; cannot restrict it to positions")
        loader, in_order = source, _in_order(source)
    else:
        _check_item(source)
        subset = source if positions is None else Subset(source, positions.tolist())
        loader, in_order = DataLoader(subset, batch_size=batch_size, shuffle=False), positions is None
    name = _name(source)
    offset = 0
    with contextlib.closing(_batches(loader, name)) as batches:
        for b, raw in enumerate(batches):
            pos, inputs, labels = _unpack(raw, adapter, name)
            labels = _labels(labels, b)
            if pos is None and not in_order and positions is None:
                raise ValueError(f"this DataLoader does not read {name} in order ({type(source.sampler).__name__}) "
                                 "and its batches carry no positions: build it on WithPositions(dataset)")
            expected = torch.arange(offset, offset + len(labels)) if positions is None else positions[offset:][
                :len(labels)]
            offset += len(labels)
            pos = expected if pos is None else _positions(pos, len(labels), name)
            if in_order and not torch.equal(pos, expected):
                raise ValueError(f"{name} yielded positions that are not the items' positions (batch {b}: "
                                 f"{pos[:3].tolist()}... where {expected[:3].tolist()}... were read): the first of "
                                 "three elements must be the position, as WithPositions(dataset) puts it")
            yield Batch(pos, inputs, labels)


def _tensor_batches(x: Tensor, y: Tensor, pos: Tensor | None, batch_size: int,
                    positions: Tensor | None) -> Iterator[Batch]:
    y = _labels(y, None)
    rows = torch.arange(len(y)) if positions is None else positions.cpu().long()
    for start in range(0, len(rows), batch_size):
        r = rows[start:start + batch_size]
        if positions is None:  # a view of consecutive rows, no copy
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        else:
            xb, yb = x[r.to(x.device)], y[r.to(y.device)]
        yield Batch(r if pos is None else pos[r].cpu().long(), xb, yb)


def _check_item(dataset: Any) -> None:
    """Refuse a dataset whose first item is neither a tuple nor a dict, naming what items must be."""
    item = dataset[0] if len(dataset) else None
    if item is not None and not isinstance(item, (tuple, list, Mapping)):
        raise ValueError(f"item 0 of {type(dataset).__name__} is a {type(item).__name__}; expected {EXPECTED_ITEM}")


def _in_order(loader: DataLoader) -> bool:
    """Whether ``loader`` yields its dataset's items in order 0..N-1 (its sampler is sequential)."""
    if loader.batch_sampler is None:
        return isinstance(loader.sampler, SequentialSampler)
    return type(loader.batch_sampler) is BatchSampler and isinstance(loader.batch_sampler.sampler, SequentialSampler)


def _batches(loader: DataLoader, name: str) -> Generator[Any, None, None]:
    """The loader's batches; a failure to collate the first one names what items must be.

    When the reading stops early (an error here or in the caller), the loader's worker processes are shut down at
    once, as the iterator would on deletion: left to the garbage collector, that costs seconds per worker.
    """
    iterator = iter(loader)
    try:
        try:
            first = next(iterator)
        except StopIteration:
            return
        except (TypeError, RuntimeError, ValueError) as err:
            raise ValueError(f"could not batch the items of {name}: {first_line(err)}; items must be "
                             f"{EXPECTED_ITEM}, of tensors or numbers (add a transform that turns e.g. images into "
                             "tensors)") from err
        yield first
        yield from iterator
    finally:
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()


def _name(source: Any) -> str:
    """The name of the dataset behind ``source``, for messages."""
    if isinstance(source, DataLoader):
        return f"{type(source.dataset).__name__} (through a DataLoader)"
    return type(source).__name__


def _unpack(batch: Any, adapter: DictBatches | None, name: str) -> tuple[Any, Inputs, Any]:
    """``(positions or None, inputs, labels)`` of one collated batch."""
    if isinstance(batch, Mapping):
        return (adapter or DictBatches(None, label=_label_key(batch))).split(batch)
    if adapter is not None:
        raise ValueError(f"DictBatches needs dict batches, but {name} yielded a {type(batch).__name__}")
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        *pos, x, y = batch
        if isinstance(x, Mapping):
            x = dict(x)
        elif not isinstance(x, Tensor):
            raise ValueError(f"{name} yielded inputs of type {type(x).__name__}; expected tensors (or dicts of them)")
        return (pos[0] if pos else None), x, y
    kinds = " or ".join(sorted({type(v).__name__ for v in batch})) if isinstance(batch, (tuple, list)) else ""
    what = f"a {len(batch)}-tuple of {kinds}" if kinds else f"a {type(batch).__name__}"
    raise ValueError(f"{name} yielded {what}; expected items {EXPECTED_ITEM}")


def _label_key(batch: Mapping[str, Any]) -> str:
    for key in LABEL_KEYS:
        if key in batch:
            return key
    raise ValueError(f"a dict batch has keys {sorted(batch)} but no 'label' or 'labels' key; name the label "
                     "with DictBatches(data, label=KEY)")


def _labels(labels: Any, batch: int | None) -> Tensor:
    where = "the labels" if batch is None else f"the labels of batch {batch}"
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"{where} must be integer class indices of shape (B,), got {labels.dtype} of shape "
                         f"{tuple(labels.shape)}")
    return labels.long()


def _positions(pos: Any, size: int, name: str) -> Tensor:
    pos = torch.as_tensor(pos).cpu()
    if pos.shape != (size,) or pos.dtype.is_floating_point or pos.dtype == torch.bool:
        raise ValueError(f"{name} yielded positions (an item's first of three elements, or its 'position' key) "
                         f"of {pos.dtype} and shape {tuple(pos.shape)}, not integers of shape ({size},); expected "
                         f"items {EXPECTED_ITEM}")
    return pos.long()


def first_line(err: BaseException) -> str:
    """The message of ``err`` in one line; for an error re-raised from a ``DataLoader`` worker, the original's."""
    text = str(err).strip()
    if "Original Traceback" in text:
        text = text.splitlines()[-1]
    return text.splitlines()[0] if text else type(err).__name__


def score_examples(data: Data, per_batch: Callable[[Batch, bool], Tensor], *, batch_size: int) -> Tensor:
    """``per_batch(batch, first) -> (B,)`` over every example of ``data``, float64 ``(N,)`` in position order.

    Every example must come exactly once (a ``DataLoader`` with ``drop_last=True`` is refused at the end).
    """
    n = num_examples(data)
    out = torch.full((n,), math.nan, dtype=torch.float64)
    seen = torch.zeros(n, dtype=torch.bool)
    with contextlib.closing(iter_batches(data, batch_size=batch_size)) as batches:
        for b, batch in enumerate(batches):
            pos = batch.positions
            if len(pos) and (int(pos.min()) < 0 or int(pos.max()) >= n):
                raise ValueError(f"positions must lie in 0..{n - 1}, found {int(pos.min())}..{int(pos.max())}")
            if bool(seen[pos].any()) or len(pos.unique()) != len(pos):
                raise ValueError("an example came twice: the data must yield every position once (a sampler that "
                                 "repeats examples cannot be scored)")
            out[pos] = per_batch(batch, b == 0).detach().double().cpu()
            seen[pos] = True
    if not bool(seen.all()):
        raise ValueError(f"the data yielded {int(seen.sum())} of its {n} examples (a DataLoader with drop_last=True, "
                         "or a sampler over part of the data?); scores need every example once")
    return out


def labels_of(data: Data) -> Tensor:
    """Labels ``(N,)``, int64, in position order (e.g. for the dynamic pruner's class-balanced selection).

    Read without touching the inputs where the data says them (tensors, a ``targets`` attribute, a Hugging Face
    ``datasets.Dataset`` column); otherwise one pass over the data.
    """
    source, adapter = _source(data)
    pair = _tensor_pair(source)
    if pair is not None:
        return _labels(pair[1], None).cpu()
    dataset = source.dataset if isinstance(source, DataLoader) else source
    dataset = dataset.dataset if isinstance(dataset, WithPositions) else dataset
    key = adapter.label if adapter is not None else "label"
    if isinstance(key, str) and key in (getattr(dataset, "column_names", None) or ()):
        return _labels(dataset[key][:], None)  # [:] reads a Hugging Face column at once, not value by value
    targets = getattr(dataset, "targets", None)
    if isinstance(targets, (Tensor, list)) and adapter is None:
        return _labels(targets, None)
    labels = torch.empty(num_examples(data), dtype=torch.long)
    for batch in iter_batches(data, batch_size=256):
        labels[batch.positions] = batch.labels
    return labels
