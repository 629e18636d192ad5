"""Per-example squared norms of one layer's parameter gradients, from its inputs and output gradients.

In evaluation mode examples do not interact, so the gradient of the summed loss with respect to a layer's weight
is a sum of per-example gradients ``g_i``. For a layer that sees ``T`` positions per example (spatial positions of
a convolution, or a Linear layer's extra axes) with inputs ``a_i (T, D_in)`` (unfolded patches for a convolution)
and output gradients ``b_i (T, D_out)``, ``g_i = b_i^T a_i`` and::

    ||g_i||^2 = sum_{s,t} (a_i a_i^T)_{st} (b_i b_i^T)_{st}   # "ghost norm", about T^2 (D_in + D_out) multiply-adds
              = ||b_i^T a_i||_F^2                             # materialized, about T D_in D_out multiply-adds

Each layer takes whichever needs fewer multiply-adds (per convolution group). A convolution's ghost norm works on
unfolded patches; its per-example gradients come from one convolution with ``B * groups`` groups (the batch folded
into the channels), the kernel of the usual weight gradient without the sum over examples. BatchNorm in
evaluation mode is an affine map per channel, so its per-example gradients are sums over positions of
``grad_out * x_hat`` (weight) and ``grad_out`` (bias). A module called several times in one forward pass (shared
weights) gets the sum of its calls' gradients: the same formulas over the concatenated positions. Only parameters
with ``requires_grad`` count. Results are float64 ``(B,)``; products are summed in float64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.grad import conv1d_weight, conv2d_weight
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["LAYER_TYPES", "layer_sq_norms", "supports"]

LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
# Examples are processed in slices whose temporaries (operands, Gram matrices or per-example gradients) stay below
# this many elements: cache-sized on a CPU, where small slices ran up to 4x faster, larger on accelerators.
_CPU_TEMP_ELEMENTS, _ACCELERATOR_TEMP_ELEMENTS = 2**20, 2**26


def supports(module: nn.Module) -> bool:
    """Whether ``module`` is one of :data:`LAYER_TYPES` (or a subclass that keeps its ``forward``)."""
    return any(isinstance(module, t) and type(module).forward is t.forward for t in LAYER_TYPES)


def layer_sq_norms(module: nn.Module, inputs: list[Tensor], grads: list[Tensor]) -> Tensor:
    """Squared norms ``(B,)`` of the per-example gradients of ``module``'s trainable parameters.

    Args:
        module: a module for which :func:`supports` is true.
        inputs: the module's input of each call, batch first, e.g. ``(B, C_in, H, W)``.
        grads: the gradient of the summed loss with respect to each call's output, same order.
    """
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return _conv(module, inputs, grads)
    if isinstance(module, nn.Linear):
        return _linear(module, inputs, grads)
    if isinstance(module, _BatchNorm):
        return _batch_norm(module, inputs, grads)
    raise TypeError(f"no per-example gradient norms for {type(module).__name__} (see supports())")


def _trainable(p: Tensor | None) -> bool:
    return p is not None and p.requires_grad


def _linear(module: nn.Linear, inputs: list[Tensor], grads: list[Tensor]) -> Tensor:
    batch = len(inputs[0])
    a = _cat([x.reshape(batch, -1, module.in_features) for x in inputs], 1)  # (B, T, D_in)
    b = _cat([g.reshape(batch, -1, module.out_features) for g in grads], 1)  # (B, T, D_out)
    sq = torch.zeros(batch, dtype=torch.float64, device=a.device)
    if _trainable(module.weight):
        t, d_in, d_out = a.shape[1], a.shape[2], b.shape[2]
        if _ghost_is_cheaper(t, d_in, d_out):
            sq += _sliced(lambda s: _ghost_sq_norms(a[s, None], b[s, None]), a, t * (d_in + d_out + 2 * t))
        else:
            sq += _sliced(lambda s: _sq_sum(b[s].mT @ a[s]), a, t * (d_in + d_out) + d_in * d_out)
    if _trainable(module.bias):
        sq += _sq_sum(b.sum(1))
    return sq


def _conv(module: nn.Conv1d | nn.Conv2d, inputs: list[Tensor], grads: list[Tensor]) -> Tensor:
    batch, groups = len(inputs[0]), module.groups
    sq = torch.zeros(batch, dtype=torch.float64, device=inputs[0].device)
    if _trainable(module.weight):
        t = sum(g[0, 0].numel() for g in grads)
        d_in, d_out = module.weight[0].numel(), module.out_channels // groups

        def ghost(s: slice) -> Tensor:
            a = _cat([_conv_columns(module, x[s]) for x in inputs], 2)  # (b, groups * d_in, T)
            b = _cat([g[s].flatten(2) for g in grads], 2)  # (b, groups * d_out, T)
            return _ghost_sq_norms(a.unflatten(1, (groups, d_in)).mT, b.unflatten(1, (groups, d_out)).mT)

        def materialized(s: slice) -> Tensor:
            return _sq_sum(_sum([_conv_weight_grads(module, x[s], g[s]) for x, g in zip(inputs, grads)]))

        if _ghost_is_cheaper(t, d_in, d_out):
            sq += _sliced(ghost, inputs[0], groups * t * (d_in + d_out + 2 * t))
        else:
            sq += _sliced(materialized, inputs[0], module.weight.numel())
    if _trainable(module.bias):
        sq += _sq_sum(_sum([g.flatten(2).sum(2) for g in grads]))
    return sq


def _batch_norm(module: _BatchNorm, inputs: list[Tensor], grads: list[Tensor]) -> Tensor:
    """Per-example ``sum_s g * (x - mean) / std`` (weight) and ``sum_s g`` (bias) over each channel's positions."""
    batch, channels = len(inputs[0]), module.num_features
    mean, var = module.running_mean, module.running_var
    if mean is None or var is None:
        raise ValueError(f"{type(module).__name__} without running statistics (track_running_stats=False) "
                         "normalizes with batch statistics: its examples' gradients are not separable")
    inv_std = torch.rsqrt(var + module.eps)
    weight_grads, bias_grads = [], []
    for x, g in zip(inputs, grads):
        g = g.reshape(batch, channels, -1)
        g_sum = g.sum(2)
        bias_grads.append(g_sum)
        if _trainable(module.weight):
            g_x = torch.einsum("bcs,bcs->bc", g, x.reshape(batch, channels, -1))
            weight_grads.append((g_x - mean * g_sum) * inv_std)
    sq = torch.zeros(batch, dtype=torch.float64, device=inputs[0].device)
    if _trainable(module.weight):
        sq += _sq_sum(_sum(weight_grads))
    if _trainable(module.bias):
        sq += _sq_sum(_sum(bias_grads))
    return sq


def _padded(module: nn.Conv1d | nn.Conv2d, x: Tensor) -> tuple[Tensor, tuple[int, ...]]:
    """The input padded as the module pads it, when that is not plain zero padding, and the padding left to do."""
    if isinstance(module.padding, str) or module.padding_mode != "zeros":
        mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
        return F.pad(x, _explicit_padding(module), mode=mode), (0,) * len(module.kernel_size)
    return x, module.padding


def _conv_columns(module: nn.Conv1d | nn.Conv2d, x: Tensor) -> Tensor:
    """Input patches ``(B, C_in * prod(kernel), T)`` in the weight's layout, ``T`` = output positions."""
    x, padding = _padded(module, x)
    if isinstance(module, nn.Conv1d):  # a Conv1d is a Conv2d over (1, L)
        return F.unfold(x.unsqueeze(2), (1, *module.kernel_size), (1, *module.dilation), (0, *padding),
                        (1, *module.stride))
    return F.unfold(x, module.kernel_size, module.dilation, padding, module.stride)


def _conv_weight_grads(module: nn.Conv1d | nn.Conv2d, x: Tensor, grad: Tensor) -> Tensor:
    """Per-example weight gradients ``(B, C_out * C_in / groups * prod(kernel))`` of one call.

    The batch is folded into the channels, so one convolution with ``B * groups`` groups computes every
    example's weight gradient at once (the same kernel as the usual weight gradient, without the sum over B).
    """
    x, padding = _padded(module, x)
    batch = len(x)
    weight_grad = conv1d_weight if isinstance(module, nn.Conv1d) else conv2d_weight
    w = weight_grad(
        x.reshape(1, -1, *x.shape[2:]), (batch * module.out_channels, *module.weight.shape[1:]),
        grad.reshape(1, -1, *grad.shape[2:]), module.stride, padding, module.dilation, batch * module.groups,
    )
    return w.reshape(batch, -1)


def _explicit_padding(module: nn.Conv1d | nn.Conv2d) -> list[int]:
    """``F.pad`` amounts (last axis first) equal to the module's padding, including "same" and "valid"."""
    pairs: list[tuple[int, int]] = []
    for i, (k, d) in enumerate(zip(module.kernel_size, module.dilation)):
        if module.padding == "same":
            total = d * (k - 1)
            pairs.append((total // 2, total - total // 2))
        else:
            p = 0 if isinstance(module.padding, str) else module.padding[i]  # a string here is "valid"
            pairs.append((p, p))
    return [v for pair in reversed(pairs) for v in pair]


def _ghost_is_cheaper(t: int, d_in: int, d_out: int) -> bool:
    return t * t * (d_in + d_out) < t * d_in * d_out


def _sliced(norms: Callable[[slice], Tensor], batch: Tensor, per_example: int) -> Tensor:
    """``norms(slice)`` over slices of the examples of ``batch`` (a layer input) with bounded temporaries.

    ``per_example`` is the number of temporary elements one example needs.
    """
    budget = _CPU_TEMP_ELEMENTS if batch.device.type == "cpu" else _ACCELERATOR_TEMP_ELEMENTS
    step = max(1, budget // max(per_example, 1))
    return torch.cat([norms(slice(i, i + step)) for i in range(0, len(batch), step)])


def _ghost_sq_norms(a: Tensor, b: Tensor) -> Tensor:
    """``sum over groups of ||b^T a||_F^2`` for ``a (B, G, T, D_in)``, ``b (B, G, T, D_out)`` via Gram matrices."""
    return ((a @ a.mT) * (b @ b.mT)).flatten(1).sum(1, dtype=torch.float64)


def _cat(tensors: list[Tensor], dim: int) -> Tensor:
    """``torch.cat`` without the copy when there is one tensor (a module called once)."""
    return tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim)


def _sum(tensors: list[Tensor]) -> Tensor:
    """Sum of the calls' terms without copying a single term."""
    return functools.reduce(torch.add, tensors)


def _sq_sum(per_example: Tensor) -> Tensor:
    return per_example.flatten(1).square().sum(1, dtype=torch.float64)
