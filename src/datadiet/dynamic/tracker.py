"""Per-example loss statistics across checkpoints: the latest loss, its EMA and its variance.

Raju et al.'s updates at each checkpoint, with s the current loss (**high = uncertain, worth training on**):

    var  <- (1 - a) * var + a * (s - ema_prev)^2
    ema  <- a * s + (1 - a) * ema_prev

The first observed loss of an example initializes its EMA (variance 0), as the paper does with the untrained
model's scoring pass. Examples never observed hold NaN, which the selection rules rank first.
"""

from __future__ import annotations

import torch

__all__ = ["LossTracker", "ema_update", "variance_update"]


def ema_update(ema: torch.Tensor, s: torch.Tensor, alpha: float) -> torch.Tensor:
    """``alpha * s + (1 - alpha) * ema``, elementwise."""
    return alpha * s + (1 - alpha) * ema


def variance_update(var: torch.Tensor, s: torch.Tensor, ema_prev: torch.Tensor, alpha: float) -> torch.Tensor:
    """``(1 - alpha) * var + alpha * (s - ema_prev)^2``, elementwise (``ema_prev`` before this step's update)."""
    return (1 - alpha) * var + alpha * (s - ema_prev) ** 2


class LossTracker:
    """Latest loss ``(N,)``, EMA ``(N,)`` and variance ``(N,)`` of every example, float32 on the CPU.

    ``observe_all`` records a scoring pass over all N, ``observe`` training-batch losses as they arrive (marked
    ``pending`` until merged across processes); ``step`` folds the latest losses into the EMA and variance once
    per checkpoint. An example not observed since the last step contributes its last observed loss again.
    """

    def __init__(self, num_examples: int, alpha: float) -> None:
        self.alpha = alpha
        self.latest = torch.full((num_examples,), float("nan"))
        self.ema = torch.full((num_examples,), float("nan"))
        self.var = torch.zeros(num_examples)
        self.pending = torch.zeros(num_examples, dtype=torch.bool)

    def observe(self, indices: torch.Tensor | slice, losses: torch.Tensor) -> None:
        """Record ``losses`` ``(B,)`` of the examples at positions ``indices`` ``(B,)``."""
        self.latest[indices] = losses.detach().float().cpu()
        self.pending[indices] = True

    def observe_all(self, losses: torch.Tensor) -> None:
        """Record the losses of all N examples ``(N,)``, values every process already shares (a scoring pass)."""
        self.latest = losses.detach().float().cpu().clone()
        self.pending.zero_()

    def step(self) -> None:
        """Fold the latest losses into EMA and variance (one checkpoint)."""
        s = self.latest
        seen = ~torch.isnan(s)
        first = seen & torch.isnan(self.ema)
        again = seen & ~first
        var = torch.where(first, 0.0, self.var)
        self.var = torch.where(again, variance_update(self.var, s, self.ema, self.alpha), var)
        self.ema = torch.where(again, ema_update(self.ema, s, self.alpha), torch.where(first, s, self.ema))

    def state_dict(self) -> dict:
        return {"latest": self.latest.clone(), "ema": self.ema.clone(), "var": self.var.clone(),
                "pending": self.pending.clone()}

    def load_state_dict(self, state: dict) -> None:
        for name in ("latest", "ema", "var", "pending"):
            value = state[name]
            if value.shape != getattr(self, name).shape:
                raise ValueError(f"tracker state {name!r} has shape {tuple(value.shape)}, expected "
                                 f"{tuple(getattr(self, name).shape)}")
            setattr(self, name, value.clone().to(getattr(self, name).dtype))
