"""Networks on the straight line between two weight vectors, and their errors (linear mode connectivity).

``(1 - a) w_1 + a w_2`` interpolates every floating-point entry of the two state dicts (weights and BatchNorm
statistics); integer entries (BatchNorm's ``num_batches_tracked``) come from ``w_1``. The running statistics
of an interpolated network are not those of its weights, so by default they are **recomputed on training
data** at every ``a`` (endpoints included, so the whole path is treated alike): running statistics reset, then
forward passes in train mode with ``momentum=None`` (a cumulative average) over ``bn_examples`` randomly drawn
un-augmented training examples, without gradients (:func:`torch.optim.swa_utils.update_bn`). With
``bn_data=None`` the interpolated statistics are kept as they are. All of this happens on a copy of the model.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.optim.swa_utils import update_bn

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device, model_device
from datadiet.training import predict_logits

__all__ = [
    "DEFAULT_ALPHAS", "alpha_grid", "error_rate", "interpolate_states", "interpolation_errors", "recompute_batchnorm",
]


def alpha_grid(count: int) -> tuple[float, ...]:
    """``count`` (at least 2) evenly spaced interpolation coefficients from 0 (first network) to 1 (second)."""
    if not isinstance(count, (int, np.integer)) or count < 2:
        raise ValueError(f"an interpolation path needs at least 2 points, got {count!r}")
    return tuple(float(a) for a in np.linspace(0.0, 1.0, count))


DEFAULT_ALPHAS = alpha_grid(11)
"""Eleven evenly spaced interpolation coefficients from 0 (first network) to 1 (second)."""


def interpolate_states(state_a: Mapping[str, Tensor], state_b: Mapping[str, Tensor], alpha: float) -> dict:
    """``(1 - alpha) state_a + alpha state_b`` for floating-point entries; other entries from ``state_a``."""
    if set(state_a) != set(state_b):
        diff = sorted(set(state_a) ^ set(state_b))
        raise ValueError(f"the two states have different entries, e.g. {diff[:5]}")
    out = {}
    for name, a in state_a.items():
        b = state_b[name].to(a.device)
        if a.shape != b.shape:
            raise ValueError(f"entry {name!r} has shapes {tuple(a.shape)} and {tuple(b.shape)}")
        out[name] = torch.lerp(a, b.to(a.dtype), alpha) if a.is_floating_point() else a.clone()
    return out


def recompute_batchnorm(
    model: nn.Module, data: IndexedDataset, *, examples: int = 4096, batch_size: int = 256, seed: int = 0,
    device: Device = None,
) -> nn.Module:
    """Reset and re-estimate **in place** the BatchNorm running statistics of ``model`` on ``examples``
    randomly drawn (by ``seed``) un-augmented examples of ``data``; weights are untouched. Returns ``model``.
    """
    if examples <= 0 or batch_size <= 0:
        raise ValueError(f"examples and batch_size must be positive, got {examples} and {batch_size}")
    device = model_device(model, device)
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(data), generator=g)[:examples]
    update_bn([data.x[pick[i : i + batch_size]] for i in range(0, len(pick), batch_size)], model, device)
    return model


def interpolation_errors(
    model: nn.Module,
    state_a: Mapping[str, Tensor],
    state_b: Mapping[str, Tensor],
    eval_sets: Mapping[str, IndexedDataset],
    *,
    bn_data: IndexedDataset | None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    bn_examples: int = 4096,
    batch_size: int = 256,
    seed: int = 0,
    device: Device = None,
) -> dict[str, np.ndarray]:
    """Error (1 - accuracy) of ``(1 - a) w_a + a w_b`` on each evaluation set, for each ``a``: name -> ``(A,)``.

    Args:
        model: the architecture; a copy is loaded with each interpolated state (``model`` is not modified).
        eval_sets: named datasets to measure the error on (e.g. subsets of the training set).
        bn_data: training data to recompute BatchNorm statistics on, or None to keep interpolated statistics.
        alphas: interpolation coefficients (default: 11 points from 0 to 1).
        bn_examples, seed: how many training examples re-estimate the statistics, and their draw.
    """
    a = np.asarray(alphas, dtype=np.float64)
    if a.ndim != 1 or len(a) < 2 or not np.all((a >= 0) & (a <= 1)):
        raise ValueError(f"alphas must be at least two coefficients in [0, 1], got {alphas!r}")
    device = model_device(model, device)
    net = copy.deepcopy(model).to(device)
    errors = {name: np.zeros(len(a)) for name in eval_sets}
    for i, alpha in enumerate(a):
        net.load_state_dict(interpolate_states(state_a, state_b, float(alpha)))
        if bn_data is not None:
            recompute_batchnorm(net, bn_data, examples=bn_examples, batch_size=batch_size, seed=seed, device=device)
        for name, data in eval_sets.items():
            errors[name][i] = error_rate(net, data, batch_size=batch_size, device=device)
    return errors


def error_rate(
    model: nn.Module, data: IndexedDataset, *, batch_size: int | None = None, device: Device = None
) -> float:
    """Fraction of ``data`` that ``model`` (evaluation mode, un-augmented inputs) misclassifies."""
    wrong = predict_logits(model, data, batch_size=batch_size, device=device).argmax(1) != data.y.cpu()
    return int(wrong.sum()) / len(data)
