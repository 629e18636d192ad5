"""Every score by name: what it needs (a network, a training run, or only the data) and how to compute it.

The training-dynamics scores (AUM, Data Maps, Dyn-Unc, TDDS, DUAL, entropy, least confidence, EL2N of the
training pass) all come from one accumulator, :class:`~datadiet.scores.recording.TrainingDynamics`: each is that
recording's ``compute()`` passed through a pure function of :mod:`datadiet.scores.dynamics`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from datadiet.callbacks import Accumulator, AccumulatorCallback, BatchResult
from datadiet.data.batches import Data
from datadiet.scores import dynamics
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting
from datadiet.scores.gradient_norm import grand, grand_last_layer, grand_mode
from datadiet.scores.outputs import el2n, input_norm, loss_scores, margin
from datadiet.scores.recording import TrainingDynamics, feed_dynamics

__all__ = ["KINDS", "SCORES", "ScoreMethod", "get_score", "list_scores"]

KINDS = ("model", "training", "data")


@dataclass(frozen=True)
class ScoreMethod:
    """A score's name, kind and function.

    ``kind`` is ``"model"`` (a function ``score(model, data, **options) -> (N,)`` of a network at some time),
    ``"training"`` (accumulated during a training run: ``accumulator(N)`` makes the accumulator, ``feed(acc,
    batch)`` records each :class:`~datadiet.callbacks.BatchResult` in it, and its ``compute()`` gives the scores,
    or gives what ``derive(result, **options)`` turns into scores) or ``"data"`` (``score(None, data)``: needs no
    network). ``window`` names the option giving the number of epochs a training score needs at least (its
    default in ``min_epochs``), so a run too short for it is refused before it starts. ``mode(**options)`` says
    the network mode the scores see with those options, recorded in score files (see :meth:`mode_of`).
    """

    name: str
    kind: str
    summary: str
    score: Callable[..., np.ndarray] | None = None
    accumulator: Callable[[int], Accumulator] | None = None
    feed: Callable[[Any, BatchResult], None] | None = None  # takes the accumulator that ``accumulator`` makes
    derive: Callable[..., np.ndarray] | None = None
    min_epochs: int = 1
    window: str | None = None
    mode: Callable[..., str] | None = None

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
        assert self.accumulator is not None and self.feed is not None  # __post_init__ requires them for training
        return AccumulatorCallback(self.accumulator(num_examples), self.feed)

    def check_options(self, options: dict[str, Any]) -> None:
        """Refuse options the score's function does not take, naming those it does."""
        function = self.derive if self.kind == "training" else self.score
        if function is None:
            valid: list[str] = []
        else:
            parameters = list(inspect.signature(function).parameters.values())[1 if self.kind == "training" else 2:]
            valid = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY or p.default is not p.empty]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise ValueError(f"score {self.name!r} takes no option {', '.join(unknown)}; its options: "
                             f"{', '.join(valid) or 'none'}")

    def mode_of(self, options: dict[str, Any]) -> str:
        """The network mode the scores see with ``options``: the score's ``mode``, else ``"train"`` for training
        scores (counted on training steps) and ``"eval"`` for the others."""
        if self.mode is not None:
            return self.mode(**options)
        return "train" if self.kind == "training" else "eval"

    def epochs_needed(self, options: dict[str, Any]) -> int:
        """The number of recorded epochs this score needs with ``options``."""
        return int(options.get(self.window, self.min_epochs)) if self.window else self.min_epochs

    def scores(self, result: Any, **options: Any) -> np.ndarray:
        """Scores ``(N,)`` from a training score's ``compute()`` result."""
        return self.derive(result, **options) if self.derive is not None else result


def _recorded(name: str, summary: str, derive: Callable[..., np.ndarray], *, probabilities: bool = False,
              min_epochs: int = 1, window: str | None = None) -> ScoreMethod:
    """A score derived from the training-dynamics recording."""
    return ScoreMethod(name, "training", summary, accumulator=partial(TrainingDynamics,
                       keep_probabilities=probabilities), feed=feed_dynamics, derive=derive, min_epochs=min_epochs,
                       window=window)


def _input_norm(model: None, data: Data, **options) -> np.ndarray:
    return input_norm(data, **options)


SCORES: dict[str, ScoreMethod] = {
    m.name: m
    for m in (
        ScoreMethod("el2n", "model", "||softmax(f(x)) - onehot(y)||_2", el2n),
        ScoreMethod("grand", "model", "exact per-example loss-gradient norm over all parameters (option "
                    "batchnorm: running or batch statistics)", grand, mode=grand_mode),
        ScoreMethod("grand_last_layer", "model", "loss-gradient norm over the last layer only", grand_last_layer),
        ScoreMethod("forgetting", "training", "forgetting events during training (inf: never learned)",
                    accumulator=ForgettingCounter, feed=feed_forgetting),
        ScoreMethod("loss", "model", "per-example cross-entropy", loss_scores),
        ScoreMethod("margin", "model", "max other logit minus true logit", margin),
        ScoreMethod("input_norm", "data", "||x||_2 of the normalized input (a control)", _input_norm),
        _recorded("aum", "negated area under the margin (Pleiss et al. 2020): low margin = hard", dynamics.aum),
        _recorded("data_maps_confidence", "1 - mean true-class probability over epochs (Data Maps)",
                  dynamics.data_maps_confidence),
        _recorded("data_maps_variability", "std of the true-class probability over epochs (Data Maps)",
                  dynamics.data_maps_variability),
        _recorded("data_maps_correctness", "1 - fraction of epochs classified correctly (Data Maps)",
                  dynamics.data_maps_correctness),
        _recorded("el2n_train", "EL2N of the last epoch's training pass, from the recording",
                  partial(dynamics.el2n_at, epoch=-1), probabilities=True),
        _recorded("dyn_unc", "mean over windows of the std of the true-class probability (He et al. 2023)",
                  dynamics.dyn_unc, min_epochs=10, window="window"),
        _recorded("dual", "mean over windows of std x (1 - mean) of the true-class probability (Cho et al. 2025)",
                  dynamics.dual, min_epochs=10, window="window"),
        _recorded("tdds", "temporal dual-depth: weighted spread of prediction changes (Zhang et al. 2024)",
                  dynamics.tdds, probabilities=True, min_epochs=10, window="window"),
        _recorded("entropy", "predictive entropy at the last recorded epoch", dynamics.entropy, probabilities=True),
        _recorded("least_confidence", "1 - max probability at the last recorded epoch", dynamics.least_confidence),
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
