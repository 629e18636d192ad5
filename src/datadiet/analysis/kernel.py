"""Empirical neural tangent kernel of the logits and the kernel velocity (paper 1, Sec. 5, Fig. 3).

For m examples and K classes, ``Psi`` is the ``(m K, P)`` Jacobian of the logits ``f_k(x_i)`` with respect to
**all** P parameters (every parameter with ``requires_grad``), and the kernel is ``Psi Psi^T``, shape
``(m K, m K)``, rows and columns example-major (row ``i * K + k`` is logit k of example i). The velocity of the
kernel between two times is
``1 - <K_t, K_t+1>_F / (||K_t||_F ||K_t+1||_F)``: 0 when the kernel only changed scale, high when the
network's local geometry on these examples is still moving.

``Psi`` is never materialized (for ResNet18, 1000 rows of 11M parameters are 44 GB in float32). The parameters
are cut into blocks of at most ``chunk_params`` scalars (whole tensors packed in registration order; a larger
tensor is cut into flat slices); for each block the Jacobian ``J_b`` ``(m K, |b|)`` is built ``chunk_examples``
examples at a time with ``torch.func`` (``vmap`` over examples of ``jacrev`` of ``functional_call``), and
``K += J_b J_b^T``. Memory held: one block, ``m K x chunk_params``; transient memory of one chunk of examples:
its activations and ``chunk_examples x K`` gradients of the largest parameter tensor in the block. Price: one
forward pass over the m examples per block, and backward passes that stop at the block's lowest layer.

The network runs in **evaluation mode** (BatchNorm uses its running statistics, so each example's logits
depend on that example only). The model is never modified: its mode flags are restored afterwards, and the
weights of a checkpoint are passed to ``functional_call`` instead of being loaded into it.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, vmap

from datadiet.inference import Device, eval_mode, model_device

__all__ = ["DEFAULT_BLOCK_BYTES", "kernel_velocity", "logit_kernel"]

DEFAULT_BLOCK_BYTES = 2**28
"""Default size of one Jacobian block (256 MiB): sets ``chunk_params`` when it is not given."""

Piece = tuple[str, int, int]  # (parameter name, start, stop) of a flat slice of one parameter tensor


def logit_kernel(
    model: nn.Module,
    x: Tensor,
    *,
    state: Mapping[str, Tensor] | None = None,
    chunk_examples: int = 10,
    chunk_params: int | None = None,
    device: Device = None,
) -> Tensor:
    """The logit kernel ``Psi Psi^T`` of the examples ``x`` ``(m, ...)``: float64 ``(m K, m K)`` on ``device``.

    Args:
        model: the network (read only); evaluated in evaluation mode.
        x: inputs, un-augmented, shape ``(m, ...)``.
        state: weights and buffers to evaluate at (a state dict of ``model``, e.g. a checkpoint); default: the
            model's own. Missing entries fall back to the model's.
        chunk_examples: examples per vmapped Jacobian call.
        chunk_params: parameters per block; default: as many as fit ``DEFAULT_BLOCK_BYTES`` for m K rows.
        device: where to compute; default: the device of the model's parameters.
    """
    if not isinstance(chunk_examples, int) or chunk_examples <= 0:
        raise ValueError(f"chunk_examples must be a positive integer, got {chunk_examples!r}")
    if chunk_params is not None and (not isinstance(chunk_params, int) or chunk_params <= 0):
        raise ValueError(f"chunk_params must be a positive integer or None, got {chunk_params!r}")
    if x.dim() < 1 or len(x) == 0:
        raise ValueError(f"x must hold at least one example, shape (m, ...), got {tuple(x.shape)}")
    device = model_device(model, device)
    tensors = _tensors(model, state, device)
    x = x.to(device)
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    if not names:
        raise ValueError("the model has no parameters that require gradients")
    with eval_mode(model):
        with torch.no_grad():
            probe = functional_call(model, tensors, (x[:1],))
        if probe.dim() != 2:
            raise ValueError(f"the model must return logits of shape (N, K), got {tuple(probe.shape)}")
        rows = len(x) * probe.shape[1]
        if chunk_params is None:
            chunk_params = max(1, DEFAULT_BLOCK_BYTES // (rows * tensors[names[0]].element_size()))
        kernel = torch.zeros(rows, rows, dtype=torch.float64, device=device)
        for block in _blocks([(n, tensors[n].numel()) for n in names], chunk_params):
            jac = _block_jacobian(model, tensors, block, x, probe.shape[1], chunk_examples)
            kernel += (jac @ jac.T).double()
    return kernel


def kernel_velocity(kernel_t: Tensor, kernel_next: Tensor) -> float:
    """``1 - <K_t, K_t+1>_F / (||K_t||_F ||K_t+1||_F)`` in ``[0, 1]`` for kernels; 0 = unchanged up to scale.

    Computed in float64 (exactly 0 for identical kernels); rounding below 0 is clipped to 0.
    """
    if kernel_t.shape != kernel_next.shape or kernel_t.dim() != 2:
        raise ValueError(f"need two kernels of the same 2-D shape, got {tuple(kernel_t.shape)} and "
                         f"{tuple(kernel_next.shape)}")
    a, b = kernel_t.double(), kernel_next.to(device=kernel_t.device, dtype=torch.float64)
    squares = float(a.square().sum()) * float(b.square().sum())
    if squares == 0:
        raise ValueError("the velocity of a zero kernel is undefined")
    return max(0.0, 1.0 - float((a * b).sum()) / squares**0.5)


def _tensors(model: nn.Module, state: Mapping[str, Tensor] | None, device: torch.device) -> dict[str, Tensor]:
    """Every parameter and buffer of ``model`` by name, detached, on ``device``, overridden by ``state``."""
    tensors = {n: t.detach().to(device) for n, t in (*model.named_parameters(), *model.named_buffers())}
    if state is not None:
        unknown = sorted(set(state) - set(tensors))
        if unknown:
            raise ValueError(f"state has entries the model does not have: {unknown[:5]}; valid: the keys of "
                             "model.state_dict()")
        for name, value in state.items():
            if value.shape != tensors[name].shape:
                raise ValueError(f"state[{name!r}] has shape {tuple(value.shape)}, the model's is "
                                 f"{tuple(tensors[name].shape)}")
            tensors[name] = value.detach().to(device=device, dtype=tensors[name].dtype)
    return tensors


def _blocks(sizes: list[tuple[str, int]], chunk_params: int) -> list[list[Piece]]:
    """Flat slices of the parameters packed into blocks of at most ``chunk_params`` scalars, in order."""
    blocks: list[list[Piece]] = [[]]
    filled = 0
    for name, numel in sizes:
        for start in range(0, numel, chunk_params):
            stop = min(numel, start + chunk_params)
            if filled + stop - start > chunk_params:
                blocks.append([])
                filled = 0
            blocks[-1].append((name, start, stop))
            filled += stop - start
    return [b for b in blocks if b]


def _block_jacobian(
    model: nn.Module, tensors: dict[str, Tensor], block: list[Piece], x: Tensor, num_classes: int,
    chunk_examples: int,
) -> Tensor:
    """Jacobian ``(m K, |block|)`` of the K logits of ``x`` with respect to the block's slices."""
    flat = {name: tensors[name].reshape(-1) for name, _, _ in block}
    variables = tuple(flat[name][start:stop] for name, start, stop in block)

    def logits(variables: tuple[Tensor, ...], xi: Tensor) -> Tensor:
        params = dict(tensors)
        for (name, start, stop), v in zip(block, variables):
            whole = torch.cat([flat[name][:start], v, flat[name][stop:]]) if len(v) < len(flat[name]) else v
            params[name] = whole.view_as(tensors[name])
        return functional_call(model, params, (xi[None],))[0]

    jacobian = vmap(jacrev(logits), in_dims=(None, 0))
    out = variables[0].new_empty(len(x) * num_classes, sum(len(v) for v in variables))
    for i in range(0, len(x), chunk_examples):
        parts = jacobian(variables, x[i : i + chunk_examples])  # each (c, K, |slice|)
        chunk = torch.cat([p.flatten(2) for p in parts], dim=2).flatten(0, 1)
        out[i * num_classes : i * num_classes + len(chunk)] = chunk
    return out
