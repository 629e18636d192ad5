"""Embeddings of every example: the input of one layer of the user's model, read with a forward hook.

:func:`embed` runs the model forward over ``data`` (anything the scores take, see :mod:`datadiet.data.batches`)
in evaluation mode under ``torch.inference_mode`` and collects, for every example, the input of one module: by
default the **last** ``nn.Linear`` of ``model.modules()`` (registration order), i.e. the penultimate features of a
classifier. The hook is registered on the user's model for the pass and removed afterwards, and every module's
training flag is restored; nothing else about the model changes (it is not copied, wrapped or moved).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from datadiet.data.batches import Batch, Data, num_examples, score_examples
from datadiet.data.model_calls import checked_logits, to_device
from datadiet.inference import Device, eval_mode, forward_batch_size, model_device

__all__ = ["embed", "embedding_layer"]


def embed(model: nn.Module, data: Data, *, layer: str | None = None, batch_size: int | None = None,
          device: Device = None, progress: bool = False) -> np.ndarray:
    """The input of ``layer`` for every example of ``data``: float32 ``(N, D)`` in position order.

    Args:
        model: the network; it stays where it is (inputs are moved to ``device``).
        data: tensors ``(x, y)``, a ``Dataset``, a ``DataLoader`` or ``DictBatches`` (see
            :mod:`datadiet.data.batches`).
        layer: a name from ``model.named_modules()`` whose input is taken; None: the last ``nn.Linear``.
        batch_size: examples per forward pass (default 1024 on accelerators, 128 on the CPU; a ``DataLoader``
            keeps its own).
        device: where the inputs go; None: the device of the model's parameters.
        progress: show a progress bar over the examples.

    The layer's input is flattened per example (``(B, ...)`` to ``(B, D)``). A layer that does not run exactly
    once per forward pass is a ``ValueError``.
    """
    name, module = embedding_layer(model, layer)
    device = model_device(model, device)
    size = forward_batch_size(batch_size, device)
    n = num_examples(data)
    if n == 0:
        raise ValueError("the data has no examples to embed")
    collector = _Collector(name, n, progress)
    handle = module.register_forward_hook(collector.hook)
    try:
        with torch.inference_mode(), eval_mode(model):
            score_examples(data, lambda batch, first: collector.batch(model, batch, device, first), batch_size=size)
    finally:
        handle.remove()
        collector.close()
    assert collector.out is not None  # score_examples saw every example at least once
    return collector.out


def embedding_layer(model: nn.Module, layer: str | None) -> tuple[str, nn.Module]:
    """The name and module whose input :func:`embed` takes; ``ValueError`` listing the valid names."""
    modules = dict(model.named_modules())
    modules.pop("", None)
    if layer is None:
        linear = [name for name, m in modules.items() if isinstance(m, nn.Linear)]
        if not linear:
            raise ValueError(f"the model has no nn.Linear module to take the penultimate features from; pass "
                             f"layer= one of: {', '.join(modules) or 'none (the model has no submodules)'}")
        layer = linear[-1]
    if layer not in modules:
        raise ValueError(f"unknown layer {layer!r}; valid: {', '.join(modules) or 'none (no submodules)'}")
    return layer, modules[layer]


class _Collector:
    """Writes the hooked layer's inputs of each batch into one ``(N, D)`` array at the batch's positions."""

    def __init__(self, name: str, n: int, progress: bool) -> None:
        self.name, self.n = name, n
        self.out: np.ndarray | None = None
        self.seen: list[Tensor] = []
        self.bar = _bar(n, progress)

    def hook(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if not args or not isinstance(args[0], Tensor):
            raise ValueError(f"layer {self.name!r} was called without a tensor as its first input")
        self.seen.append(args[0])

    def batch(self, model: nn.Module, batch: Batch, device: torch.device, first: bool) -> Tensor:
        self.seen.clear()
        checked_logits(model, batch, to_device(batch.inputs, device), first)
        if len(self.seen) != 1:
            raise ValueError(f"layer {self.name!r} ran {len(self.seen)} times in one forward pass; choose a layer "
                             "that runs exactly once (see model.named_modules())")
        features = self.seen.pop()
        if features.dim() == 0 or len(features) != len(batch):
            raise ValueError(f"the input of layer {self.name!r} has shape {tuple(features.shape)}, not one row per "
                             f"example of a batch of {len(batch)}")
        rows = features.reshape(len(batch), -1).float().cpu().numpy()
        if self.out is None:
            self.out = np.empty((self.n, rows.shape[1]), dtype=np.float32)
        if rows.shape[1] != self.out.shape[1]:
            raise ValueError(f"the input of layer {self.name!r} has {rows.shape[1]} features per example in this "
                             f"batch and {self.out.shape[1]} in the first; embeddings need one size")
        self.out[batch.positions.numpy()] = rows
        if self.bar is not None:
            self.bar.update(len(batch))
        return torch.zeros(len(batch))

    def close(self) -> None:
        self.seen.clear()
        if self.bar is not None:
            self.bar.close()


def _bar(n: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n, desc="embed", unit="example", leave=False)
