"""Inference over a whole dataset: logits and test metrics."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device, eval_mode, forward_batch_size, inference_model, model_device

__all__ = ["predict_logits", "evaluate"]


@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: IndexedDataset, *, batch_size: int | None = None, device: Device = None
) -> torch.Tensor:
    """Logits ``(N, K)`` of every example in position order: eval mode, un-augmented inputs, float32, on the CPU.

    Batches of ``batch_size`` (default: :func:`~datadiet.inference.forward_batch_size`). Every module's
    train/eval flag is restored afterwards.
    """
    device = model_device(model, device)
    batch_size = forward_batch_size(batch_size, device)
    fast, memory_format = inference_model(model, data.x, device)
    with eval_mode(fast):
        chunks = [fast(data.x[i : i + batch_size].to(device, memory_format=memory_format)).float().cpu()
                  for i in range(0, len(data), batch_size)]
    return torch.cat(chunks)


def evaluate(
    model: nn.Module, data: IndexedDataset, *, batch_size: int | None = None, device: Device = None
) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``data``."""
    logits = predict_logits(model, data, batch_size=batch_size, device=device)
    labels = data.y.cpu()
    return {
        "accuracy": float((logits.argmax(1) == labels).float().mean()),
        "loss": float(F.cross_entropy(logits, labels)),
    }
