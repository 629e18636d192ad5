"""Inference over a whole dataset: logits and test metrics."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import eval_mode, inference_model

__all__ = ["predict_logits", "evaluate"]


@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: IndexedDataset, *, batch_size: int = 1024, device: torch.device | str | None = None
) -> torch.Tensor:
    """Logits ``(N, K)`` of every example in position order: eval mode, un-augmented inputs, float32, on the CPU.

    Every module's train/eval flag is restored afterwards.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    fast, memory_format = inference_model(model, data.x, device)
    with eval_mode(fast):
        chunks = [fast(data.x[i : i + batch_size].to(device, memory_format=memory_format)).float().cpu()
                  for i in range(0, len(data), batch_size)]
    return torch.cat(chunks)


def evaluate(
    model: nn.Module, data: IndexedDataset, *, batch_size: int = 1024, device: torch.device | str | None = None
) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``data``."""
    logits = predict_logits(model, data, batch_size=batch_size, device=device)
    labels = data.y.cpu()
    return {
        "accuracy": float((logits.argmax(1) == labels).float().mean()),
        "loss": float(F.cross_entropy(logits, labels)),
    }
