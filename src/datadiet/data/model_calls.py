"""Calling the user's model on a batch: inputs to the device, ``model(x)`` or ``model(**inputs)``, logits out.

A model's output may be a logits tensor ``(B, K)`` or an object or dict with ``logits`` (Hugging Face). The first
batch of a pass is checked (:func:`checked_logits`): a model that rejects the inputs, returns something else or has
fewer outputs than the labels need is one ``ValueError`` line naming what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from datadiet.data.batches import Batch, Inputs, first_line
from datadiet.inference import inference_model

__all__ = ["Forward", "call_model", "check_labels", "checked_logits", "describe", "logits_of", "to_device"]


def to_device(inputs: Inputs, device: torch.device,
              memory_format: torch.memory_format = torch.contiguous_format) -> Inputs:
    """``inputs`` on ``device``; 4-D image batches in ``memory_format``."""
    if isinstance(inputs, Mapping):
        return {k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in inputs.items()}
    if inputs.dim() == 4:
        return inputs.to(device, non_blocking=True, memory_format=memory_format)
    return inputs.to(device, non_blocking=True)


def logits_of(output: Any) -> Tensor:
    """Logits ``(B, K)`` of a model's output: a tensor, or an object or dict with ``logits`` (Hugging Face)."""
    if isinstance(output, Mapping) and "logits" in output:
        output = output["logits"]
    elif not isinstance(output, Tensor) and isinstance(getattr(output, "logits", None), Tensor):
        output = output.logits
    if not isinstance(output, Tensor) or output.dim() != 2:
        what = f"a tensor of shape {tuple(output.shape)}" if isinstance(output, Tensor) else type(output).__name__
        raise ValueError(f"the model returned {what}; expected logits of shape (B, K), or an output with .logits")
    return output


def call_model(model: nn.Module, inputs: Inputs) -> Tensor:
    """Logits ``(B, K)`` of ``model(x)``, or ``model(**inputs)`` for dict inputs."""
    return logits_of(model(**inputs) if isinstance(inputs, Mapping) else model(inputs))


def describe(inputs: Inputs) -> str:
    """A short description of a batch of inputs, for error messages."""
    if isinstance(inputs, Mapping):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in inputs.items()) + "}"
    return _shape(inputs)


def _shape(value: Any) -> str:
    return f"{value.dtype} {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__


def checked_logits(model: nn.Module, batch: Batch, inputs: Inputs, first: bool) -> Tensor:
    """``call_model`` with the errors of a model that rejects the data (checked on the first batch) as one line."""
    if not first:
        return call_model(model, inputs)
    call = "model(**inputs)" if isinstance(inputs, Mapping) else "model(x)"
    try:
        output = model(**inputs) if isinstance(inputs, Mapping) else model(inputs)
    except torch.OutOfMemoryError:
        raise
    except (TypeError, RuntimeError, ValueError, IndexError, KeyError, AttributeError) as err:
        raise ValueError(f"the model rejected a batch of inputs {describe(inputs)}: {first_line(err)}; expected a "
                         f"model that takes {call} and returns logits (B, K)") from err
    logits = logits_of(output)
    if len(logits) != len(batch):
        raise ValueError(f"the model returned {len(logits)} rows of logits for a batch of {len(batch)} examples")
    check_labels(batch.labels, logits.shape[1])
    return logits


def check_labels(labels: Tensor, num_classes: int) -> None:
    """Raise ``ValueError`` unless every label lies in ``0..num_classes - 1``."""
    if len(labels) and (int(labels.max()) >= num_classes or int(labels.min()) < 0):
        raise ValueError(f"labels must lie in 0..{num_classes - 1} for a model with {num_classes} outputs, "
                         f"found {int(labels.min())}..{int(labels.max())}")


class Forward:
    """Logits of batches through ``model`` on ``device``, the fastest way (see
    :func:`~datadiet.inference.inference_model`, chosen from the first batch); call inside ``eval_mode(model)``."""

    def __init__(self, model: nn.Module, device: torch.device) -> None:
        self.model, self.device = model, device
        self.fast, self.memory_format = model, torch.contiguous_format

    def __call__(self, batch: Batch, first: bool) -> Tensor:
        if first:
            self.fast, self.memory_format = inference_model(self.model, batch.inputs, self.device)
        return checked_logits(self.fast, batch, to_device(batch.inputs, self.device, self.memory_format), first)
