"""Scores from one forward pass: EL2N, loss and margin; and the input norm, a control that needs no network.

All model scores run the network in evaluation mode (BatchNorm uses running statistics) under
``torch.inference_mode`` on un-augmented inputs, in batches of ``batch_size`` (default: 1024 on accelerators, 128
on the CPU, see :func:`~datadiet.inference.forward_batch_size`; a ``DataLoader`` keeps its own), and compute the
score in float64 from the logits. ``data`` is anything :mod:`datadiet.data.batches` accepts: tensors, any
``Dataset`` or ``DataLoader``, dict batches; it is streamed batch by batch. Every function returns a float64 array
``(N,)`` in the dataset's position order (= original order), and a
higher value always means harder / more important (kept by "prune the lowest").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from datadiet.data.batches import Batch, Data, score_examples
from datadiet.data.model_calls import Forward, describe
from datadiet.inference import Device, check_batch_size, eval_mode, forward_batch_size, model_device

__all__ = ["el2n", "input_norm", "loss_scores", "margin"]


def el2n(model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None) -> np.ndarray:
    """EL2N (paper 1): ``||softmax(f(x_i)) - onehot(y_i)||_2``, in ``[0, sqrt(2)]``.

    High = the prediction is far from the label (hard, ambiguous or mislabelled); paper 1 keeps the highest.
    """
    return _per_batch(model, data, batch_size, device, _el2n)


def loss_scores(model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None) -> np.ndarray:
    """Per-example cross-entropy loss ``-log softmax(f(x_i))_{y_i}``; high = poorly fitted (paper 2's uncertainty)."""
    return _per_batch(model, data, batch_size, device, _loss)


def margin(model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None) -> np.ndarray:
    """Negative logit margin: ``max_{k != y_i} f_k(x_i) - f_{y_i}(x_i)``.

    High = hard: positive when the example is misclassified, very negative when the true class wins by far.
    """
    return _per_batch(model, data, batch_size, device, _negative_margin)


def input_norm(data: Data, *, batch_size: int = 4096) -> np.ndarray:
    """``||x_i||_2`` over the whole (normalized) input the network sees; no network involved.

    A control (Kirsch 2023 found GraNd at initialization correlates with it): high = large input norm.
    """
    check_batch_size(batch_size)
    return score_examples(data, _input_norm, batch_size=batch_size).numpy()


def _input_norm(batch: Batch, first: bool) -> Tensor:
    if not isinstance(batch.inputs, Tensor) or not batch.inputs.is_floating_point():
        raise ValueError(f"input_norm needs floating-point input tensors, got {describe(batch.inputs)}")
    return torch.linalg.vector_norm(batch.inputs.flatten(1), dim=1, dtype=torch.float64)


def _el2n(logits: Tensor, y: Tensor) -> Tensor:
    return (logits.softmax(1) - F.one_hot(y, logits.shape[1])).norm(dim=1)


def _loss(logits: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(logits, y, reduction="none")


def _negative_margin(logits: Tensor, y: Tensor) -> Tensor:
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.scatter(1, y[:, None], float("-inf"))
    return others.max(1).values - true


@torch.inference_mode()
def _per_batch(
    model: nn.Module, data: Data, batch_size: int | None, device: Device, score: Callable[[Tensor, Tensor], Tensor]
) -> np.ndarray:
    """``score(logits, labels)`` for every batch, from float64 CPU logits ``(B, K)``, in position order."""
    device = model_device(model, device)
    with eval_mode(model):
        forward = Forward(model, device)
        scores = score_examples(
            data, lambda batch, first: score(forward(batch, first).double().cpu(), batch.labels.cpu()),
            batch_size=forward_batch_size(batch_size, device),
        )
    return scores.numpy()
