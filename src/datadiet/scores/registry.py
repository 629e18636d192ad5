"""Every score by name: what it needs (a network, a training run, or only the data) and how to compute it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from datadiet.callbacks import Accumulator, AccumulatorCallback, BatchResult
from datadiet.data.batches import Data
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting
from datadiet.scores.gradient_norm import grand, grand_last_layer
from datadiet.scores.outputs import el2n, input_norm, loss_scores, margin

__all__ = ["KINDS", "SCORES", "ScoreMethod", "get_score", "list_scores"]

KINDS = ("model", "training", "data")


@dataclass(frozen=True)
class ScoreMethod:
    """A score's name, kind and function.

    ``kind`` is ``"model"`` (a function ``score(model, data, **options) -> (N,)`` of a network at some time),
    ``"training"`` (accumulated during a training run: ``accumulator(N)`` makes the accumulator, ``feed(acc,
    batch)`` records each :class:`~datadiet.callbacks.BatchResult` in it, and its ``compute()`` gives the scores:
    forgetting) or ``"data"`` (``score(None, data)``: needs no network).
    """

    name: str
    kind: str
    summary: str
    score: Callable[..., np.ndarray] | None = None
    accumulator: Callable[[int], Accumulator] | None = None
    feed: Callable[[Accumulator, BatchResult], None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} of score {self.name!r}; valid: {', '.join(KINDS)}")
        needed = ("accumulator", "feed") if self.kind == "training" else ("score",)
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"score {self.name!r} of kind {self.kind!r} needs {' and '.join(missing)}")

    def callback(self, num_examples: int) -> AccumulatorCallback:
        """A fresh accumulator for N examples, fed from training batches (kind ``"training"`` only)."""
        if self.kind != "training":
            raise ValueError(f"score {self.name!r} is of kind {self.kind!r}; only training scores accumulate")
        return AccumulatorCallback(self.accumulator(num_examples), self.feed)


def _input_norm(model: None, data: Data, **options) -> np.ndarray:
    return input_norm(data, **options)


SCORES: dict[str, ScoreMethod] = {
    m.name: m
    for m in (
        ScoreMethod("el2n", "model", "||softmax(f(x)) - onehot(y)||_2", el2n),
        ScoreMethod("grand", "model", "exact per-example loss-gradient norm over all parameters", grand),
        ScoreMethod("grand_last_layer", "model", "loss-gradient norm over the last layer only", grand_last_layer),
        ScoreMethod("forgetting", "training", "forgetting events during training (inf: never learned)",
                    accumulator=ForgettingCounter, feed=feed_forgetting),
        ScoreMethod("loss", "model", "per-example cross-entropy", loss_scores),
        ScoreMethod("margin", "model", "max other logit minus true logit", margin),
        ScoreMethod("input_norm", "data", "||x||_2 of the normalized input (a control)", _input_norm),
    )
}


def list_scores() -> list[str]:
    """Names of all scores, sorted."""
    return sorted(SCORES)


def get_score(name: str) -> ScoreMethod:
    """The score called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    if name not in SCORES:
        raise ValueError(f"unknown score {name!r}; valid: {', '.join(list_scores())}")
    return SCORES[name]
