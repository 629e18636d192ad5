"""GraNd (paper 1): the norm of each example's loss gradient over all trainable parameters, exactly.

``grand`` computes ``||grad_w CE(f_w(x_i), y_i)||_2`` over every parameter with ``requires_grad``, with the network
in evaluation mode (BatchNorm uses its running statistics), on un-augmented inputs. In evaluation mode examples
are independent, so the gradient of the summed loss with respect to a layer's output, restricted to example i, is
example i's own. Three backends give the same numbers:

- ``"hooks"`` (fast): one forward and one backward pass per batch. Forward hooks, registered for the call and
  removed afterwards, keep each layer's input; a hook on each layer output receives its gradient. The backward
  pass asks only for the gradient with respect to the input batch, so autograd skips the weight-gradient
  products altogether; each layer's per-example norms come from :mod:`datadiet.scores.layer_norms`. Supports
  Linear, Conv1d, Conv2d and BatchNorm1d/2d/3d layers (any other module may appear if it owns no trainable
  parameter), which must see the batch on their first axis and own their parameters unshared.
- ``"func"``: ``torch.func.vmap(grad)`` over per-example losses: any architecture that ``vmap`` can trace (inputs
  may be a dict of tensors, such as token ids), slower, and it holds a batch slice of per-example gradients in
  memory.
- ``"loop"``: one backward pass per example: any model at all (e.g. Hugging Face transformers, whose
  data-dependent control flow ``vmap`` cannot trace), slowest.

``backend="auto"`` uses the hooks when the model allows, otherwise warns and uses ``torch.func`` if it can trace
the model (tried on the first example), else the loop. High value:
a large gradient, an example the network is far from fitting (hard or important); paper 1 keeps the highest.

``batchnorm="batch"`` is a variant for networks with BatchNorm (at initialization, evaluation mode normalizes with
the default running statistics 0 and 1, i.e. not at all). The data is cut into scoring batches S of
``batch_size`` consecutive positions (the last one smaller; a ``DataLoader``'s own batches). Every module is in
evaluation mode except the BatchNorm layers, which normalize with the mean and biased variance of S as in a
training step's forward; their running statistics are left unchanged. The score of example i in S is
``||grad_w CE(f_w(x_i; S), y_i)||_2``: the gradient of the example's own loss through the batch-normalized forward of
its batch, batch statistics included (they are functions of w), so that the mean of the B per-example gradients is
exactly the gradient of the batch's mean loss. Each score therefore depends on the other examples in its batch and
on the batch size. Cost: one backward pass of the whole batch per example, about B times an exact GraNd pass (for
all B examples of a batch at once this is inherent: each example's loss reaches every example's activations
through the statistics). On a model without BatchNorm it equals ``batchnorm="running"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from datadiet.data.batches import Batch, Data, Inputs, first_line, score_examples
from datadiet.data.model_calls import call_model, check_labels, checked_logits, logits_of, to_device
from datadiet.inference import Device, check_batch_size, eval_mode, forward_batch_size, model_device
from datadiet.scores.batch_statistics import (
    BatchStatisticsNorms, at_least_float32, batch_statistics, batchnorm_layers, check_batches,
)
from datadiet.scores.layer_norms import LAYER_TYPES, layer_sq_norms, supports

__all__ = ["BACKENDS", "BATCHNORM_MODES", "grand", "grand_last_layer", "grand_mode"]

BACKENDS = ("auto", "hooks", "func", "loop")
BATCHNORM_MODES = ("running", "batch")
_MAX_GRAD_ELEMENTS = 2**27  # per-example gradients held at once by the torch.func backend (512 MB in float32)


def grand(
    model: nn.Module, data: Data, *, batch_size: int = 128, device: Device = None, backend: str = "auto",
    batchnorm: str = "running",
) -> np.ndarray:
    """Exact per-example loss-gradient norms over all trainable parameters, float64 ``(N,)`` in position order.

    Higher = larger gradient = harder / more important. ``data`` is anything :mod:`datadiet.data.batches`
    accepts (streamed); ``batch_size`` examples are processed at once (memory grows with it; a ``DataLoader``
    keeps its own). ``device`` defaults to the model's; the model is not moved. The model is left as it was:
    modes and BatchNorm running statistics restored, hooks removed, no ``.grad`` written. ``batchnorm``:
    ``"running"`` (evaluation mode, paper 1's convention) or ``"batch"`` (BatchNorm on each scoring batch's
    statistics, which then also defines the score; ``backend`` ``"auto"`` or ``"loop"``). See the module docstring.
    """
    check_batch_size(batch_size)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if batchnorm not in BATCHNORM_MODES:
        raise ValueError(f"unknown batchnorm {batchnorm!r}; valid: running (evaluation mode, running statistics), "
                         "batch (each scoring batch's statistics)")
    device = model_device(model, device)
    if batchnorm == "batch" and batchnorm_layers(model):
        check_batches(data, batch_size, backend)
        with batch_statistics(model):
            coupled = BatchStatisticsNorms(model, device)
            return score_examples(data, coupled, batch_size=batch_size).sqrt().numpy()
    _check_independent(model)
    with eval_mode(model):
        norms = _SquaredNorms(model, device, backend)
        return score_examples(data, norms, batch_size=batch_size).sqrt().numpy()


def grand_mode(*, batchnorm: str = "running", batch_size: int = 128, **options: object) -> str:
    """The network mode :func:`grand` scores in with these options, as score files record it."""
    if batchnorm != "batch":
        return "eval"
    return f"eval, BatchNorm on the statistics of each batch of {batch_size} consecutive examples"


class _SquaredNorms:
    """Squared per-example gradient norms of each batch, by the backend chosen (and checked) on the first batch."""

    def __init__(self, model: nn.Module, device: torch.device, backend: str) -> None:
        self.model, self.device, self.backend = model, device, backend
        self.per_batch: Callable[[nn.Module, Inputs, Tensor], Tensor] = _loop_sq_norms

    def __call__(self, batch: Batch, first: bool) -> Tensor:
        inputs, y = to_device(batch.inputs, self.device), batch.labels.to(self.device)
        if first:  # one example shows whether the model takes these inputs; the labels are checked against it
            one = Batch(batch.positions[:1], _rows(inputs, 0, 1), y[:1])
            with torch.no_grad():
                check_labels(y, checked_logits(self.model, one, one.inputs, first=True).shape[1])
            self.per_batch = self._choose(inputs, y)
        return self.per_batch(self.model, inputs, y)

    def _choose(self, inputs: Inputs, y: Tensor) -> Callable[[nn.Module, Inputs, Tensor], Tensor]:
        modules, reasons = _plan(self.model, _rows(inputs, 0, 1))
        if reasons and self.backend == "hooks":
            raise ValueError("the hooks backend cannot handle this model: " + "; ".join(reasons))
        if not reasons and self.backend in ("auto", "hooks"):
            return partial(_hook_sq_norms, modules=modules)
        if self.backend == "loop":
            return _loop_sq_norms
        try:
            _func_sq_norms(self.model, _rows(inputs, 0, 1), y[:1])
        except RuntimeError as err:
            if self.backend == "func":
                raise ValueError(f"torch.func cannot trace this model ({first_line(err)}); use backend='loop' or "
                                 "'auto'") from err
            warnings.warn(f"grand: one backward pass per example (the slowest backend): the hooks cannot handle "
                          f"this model ({'; '.join(reasons[:-1])}) and torch.func cannot trace it (backend='func' "
                          "says why)", stacklevel=4)
            return _loop_sq_norms
        if self.backend == "auto":
            warnings.warn("grand: using torch.func per-example gradients because " + "; ".join(reasons), stacklevel=4)
        return _func_sq_norms


def _rows(inputs: Inputs, lo: int, hi: int) -> Inputs:
    """Examples ``lo:hi`` of a batch of inputs (a tensor, or every tensor of a dict)."""
    if isinstance(inputs, dict):
        return {k: v[lo:hi] if isinstance(v, Tensor) else v for k, v in inputs.items()}
    return inputs[lo:hi]


def _check_independent(model: nn.Module) -> None:
    """Per-example gradients exist only if examples do not interact; BatchNorm without running stats breaks that."""
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is None:
            raise ValueError(
                f"{name!r} ({type(m).__name__}, track_running_stats=False) normalizes with batch statistics even "
                "in evaluation mode, so per-example gradients depend on the batch; GraNd is undefined for it"
            )


def _plan(model: nn.Module, probe: Inputs) -> tuple[list[nn.Module], list[str]]:
    """The modules owning trainable parameters, and the reasons (if any) the hooks backend cannot handle them."""
    owners = [(n, m) for n, m in model.named_modules() if any(p.requires_grad for p in m.parameters(recurse=False))]
    if not owners:
        raise ValueError("the model has no trainable parameters (requires_grad=True)")
    by_type: dict[str, list[str]] = {}
    for n, m in owners:
        if not supports(m):
            by_type.setdefault(type(m).__name__, []).append(n)
    reasons = [f"{len(names)} {kind} layer{'s' * (len(names) > 1)} (e.g. {names[0]!r})"
               for kind, names in by_type.items()]
    owner_of: dict[int, str] = {}
    for n, m in owners:
        for p in m.parameters(recurse=False):
            if id(p) in owner_of:
                reasons.append(f"{n!r} shares a parameter with {owner_of[id(p)]!r}")
            owner_of[id(p)] = n
    if not isinstance(probe, Tensor):
        reasons.append("the inputs are a dict, not one tensor")
    elif not probe.is_floating_point():
        reasons.append(f"the inputs are {probe.dtype}, not floating point")
    elif not reasons:
        reasons += _probe(model, owners, probe)
    if reasons:
        reasons.append("supported layers: " + ", ".join(t.__name__ for t in LAYER_TYPES))
    return [m for _, m in owners], reasons


def _probe(model: nn.Module, owners: list[tuple[str, nn.Module]], probe: Tensor) -> list[str]:
    """Run the model on one example; report owners not called through their forward or not batch-first."""
    seen: dict[int, tuple[int, ...]] = {}

    def record(module: nn.Module, args: tuple, output: Tensor) -> None:
        seen.setdefault(id(module), tuple(args[0].shape))

    handles = [m.register_forward_hook(record) for _, m in owners]
    try:
        with torch.no_grad():
            call_model(model, probe)
    finally:
        for h in handles:
            h.remove()
    reasons = [f"{n!r} is not called through its forward" for n, m in owners if id(m) not in seen]
    return reasons + [
        f"{n!r} sees inputs of shape {tuple(seen[id(m)])} for one example (batch not on the first axis)"
        for n, m in owners if id(m) in seen and seen[id(m)][0] != 1
    ]


class _Recorder:
    """Keeps each module's inputs from the forward pass and turns them into squared norms once the gradients of
    all the module's calls have arrived during the backward pass."""

    def __init__(self, batch: int, device: torch.device) -> None:
        self.batch = batch
        self.calls: dict[nn.Module, list[list[Tensor | None]]] = {}
        self.sq = torch.zeros(batch, dtype=torch.float64, device=device)

    def forward_hook(self, module: nn.Module, args: tuple, output: Tensor) -> None:
        if len(args[0]) != self.batch:
            raise ValueError(
                f"a {type(module).__name__} sees inputs of shape {tuple(args[0].shape)} without the batch of "
                f"{self.batch} on the first axis; use backend='func'"
            )
        if output.requires_grad:
            call: list[Tensor | None] = [args[0].detach(), None]
            self.calls.setdefault(module, []).append(call)
            output.register_hook(partial(self._grad_hook, module, call))

    def _grad_hook(self, module: nn.Module, call: list, grad: Tensor) -> None:
        call[1] = grad.detach()
        if all(c[1] is not None for c in self.calls[module]):
            self._flush(module)

    def _flush(self, module: nn.Module) -> None:
        calls = self.calls.pop(module)
        done = [(x, g) for x, g in calls if x is not None and g is not None]  # the input is never None
        if done:
            self.sq += layer_sq_norms(module, [x for x, _ in done], [g for _, g in done])
        for c in calls:  # the gradient hooks live as long as the graph: drop their tensors now
            c.clear()

    def finish(self) -> Tensor:
        for module in list(self.calls):
            self._flush(module)
        return self.sq


def _hook_sq_norms(model: nn.Module, x: Tensor, y: Tensor, modules: list[nn.Module]) -> Tensor:
    """Squared per-example gradient norms ``(B,)`` of one batch with the hooks backend."""
    recorder = _Recorder(len(y), y.device)
    handles = [m.register_forward_hook(recorder.forward_hook) for m in modules]
    try:
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(at_least_float32(call_model(model, x)), y, reduction="sum")
        torch.autograd.grad(loss, x)
    finally:
        for h in handles:
            h.remove()
    return recorder.finish()


def _func_sq_norms(model: nn.Module, x: Inputs, y: Tensor) -> Tensor:
    """Squared per-example gradient norms ``(B,)`` of one batch with ``torch.func.vmap(grad)``."""
    trainable = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    fixed = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    fixed.update(model.named_buffers())

    def loss(params: dict[str, Tensor], xi: Inputs, yi: Tensor) -> Tensor:
        one = _unsqueeze(xi)
        args, kwargs = ((), one) if isinstance(one, dict) else ((one,), None)
        logits = logits_of(torch.func.functional_call(model, {**params, **fixed}, args, kwargs))
        return F.cross_entropy(at_least_float32(logits), yi[None])

    per_example = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
    step = max(1, _MAX_GRAD_ELEMENTS // sum(p.numel() for p in trainable.values()))
    out = []
    for i in range(0, len(y), step):
        grads = per_example(trainable, _rows(x, i, i + step), y[i : i + step])
        out.append(sum(g.flatten(1).square().sum(1, dtype=torch.float64) for g in grads.values()))
    return torch.cat(out)


def _unsqueeze(inputs: Inputs) -> Inputs:
    """One example's inputs with a batch axis of 1 put back (inside ``vmap``)."""
    if isinstance(inputs, dict):
        return {k: v[None] if isinstance(v, Tensor) else v for k, v in inputs.items()}
    return inputs[None]


def _loop_sq_norms(model: nn.Module, x: Inputs, y: Tensor) -> Tensor:
    """Squared per-example gradient norms ``(B,)``: one backward pass per example (any model, slowest)."""
    params = [p for p in model.parameters() if p.requires_grad]
    out = torch.empty(len(y), dtype=torch.float64, device=y.device)
    for i in range(len(y)):
        loss = F.cross_entropy(at_least_float32(call_model(model, _rows(x, i, i + 1))), y[i : i + 1])
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        out[i] = sum(g.double().square().sum() for g in grads if g is not None)
    return out


@torch.inference_mode()
def grand_last_layer(
    model: nn.Module, data: Data, *, batch_size: int | None = None, device: Device = None
) -> np.ndarray:
    """Per-example loss-gradient norm over the last layer's parameters only, float64 ``(N,)`` in position order.

    A different, cheaper score than :func:`grand` (not an approximation of it to rely on): for a final
    ``nn.Linear`` producing the logits from features ``h_i``, ``||p_i - y_i|| * sqrt(||h_i||^2 + 1)`` (the ``+ 1``
    for a trainable bias; only trainable parameters count). Evaluation mode, un-augmented inputs, one forward
    pass in batches like :func:`~datadiet.scores.el2n`. Higher = larger gradient = harder. Raises ``ValueError``
    if the logits do not come from an nn.Linear.
    """
    device = model_device(model, device)
    last: list[tuple[nn.Linear, Tensor, Tensor]] = []

    def per_batch(batch: Batch, first: bool) -> Tensor:
        last.clear()
        logits = checked_logits(model, batch, to_device(batch.inputs, device), first)
        return _last_layer_sq_norms(logits, batch.labels.to(device), last)

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(lambda m, args, out: last.append((m, args[0], out))) for m in linears]
    try:
        with eval_mode(model):
            sq = score_examples(data, per_batch, batch_size=forward_batch_size(batch_size, device))
    finally:
        for h in handles:
            h.remove()
    return sq.sqrt().numpy()


def _last_layer_sq_norms(logits: Tensor, y: Tensor, calls: list[tuple[nn.Linear, Tensor, Tensor]]) -> Tensor:
    if not calls or calls[-1][2].shape != logits.shape or not torch.equal(calls[-1][2], logits):
        raise ValueError("grand_last_layer needs a model whose logits (B, K) are the output of an nn.Linear")
    layer, h, _ = calls[-1]
    if logits.dim() != 2:
        raise ValueError(f"grand_last_layer needs logits of shape (B, K), got {tuple(logits.shape)}")
    error = logits.double().softmax(1) - F.one_hot(y, logits.shape[1]).double()
    fan = torch.zeros(len(y), dtype=torch.float64, device=logits.device)
    if layer.weight.requires_grad:
        fan += h.double().square().sum(1)
    if layer.bias is not None and layer.bias.requires_grad:
        fan += 1.0
    return error.square().sum(1) * fan
