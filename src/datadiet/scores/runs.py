"""Scores averaged over independent runs, as paper 1 defines them: E over weights w_t of score(w_t, x).

At ``t = 0`` the expectation is over independent random initializations; at epoch (or step) ``t`` over independent
training runs of the full schedule stopped at ``t``. Run ``r`` uses seed ``seed0 + r`` for the model's
initialization (``torch.manual_seed`` before ``make_model(seed)``) and for training (``train_fn(..., seed, ...)``).
Every run's raw scores are kept, so averages, spreads and rank correlations can be recomputed.

Training is yours: ``train_fn`` is any function that trains a model in place (see :class:`TrainFn`);
:func:`datadiet.training.trainer_fn` makes one from datadiet's trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from datadiet.callbacks import Callback
from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device
from datadiet.scores.registry import ScoreMethod, get_score

__all__ = ["TIME_UNITS", "ScoreRuns", "TrainFn", "score_runs", "time_label"]

TIME_UNITS = ("init", "epoch", "step")


class TrainFn(Protocol):
    """Trains ``model`` in place: ``train_fn(model, seed, stop_at, listeners) -> None``.

    Contract:
        model: a fresh network from ``make_model(seed)`` (on ``score_runs``' ``device`` when one is given); train
            it in place, on any device: it is scored where it ends up.
        seed: the run's seed; use it for the data order and augmentation (the initialization is already drawn).
        stop_at: stop after this many epochs (or steps, see ``time_unit``) of the full schedule, whose learning
            rate schedule is not shortened.
        listeners: :class:`~datadiet.callbacks.Callback` objects. Call ``listener.on_batch_end(batch)`` after
            every optimizer step with a :class:`~datadiet.callbacks.BatchResult` of that step's training forward
            pass (positions in ``data``, logits, labels, per-example losses, epoch, step): training scores such
            as forgetting are accumulated batch by batch from it. Calling their other hooks is optional.

    Optional attributes, read when present:
        time_unit: ``"epoch"`` (default) or ``"step"``, the unit of ``stop_at``.
        budget: the full schedule's length in ``time_unit``; needed for ``at=None`` (the end), and checks ``at``.
        describe(seed, stop_at) -> dict: the training configuration of a run, kept as ``ScoreRuns.train_config``.
    """

    def __call__(self, model: nn.Module, seed: int, stop_at: int, listeners: Sequence[Callback]) -> None: ...


def time_label(unit: str, value: int) -> str:
    """``"init"``, ``"epoch 20"`` or ``"step 500"``."""
    return "init" if unit == "init" else f"{unit} {value}"


@dataclass(frozen=True)
class ScoreRuns:
    """Raw scores of R independent runs of one method at one time point.

    Attributes:
        method: score name (see :func:`datadiet.scores.list_scores`).
        runs: float64 ``(R, N)``, one row per run, columns in position order.
        seeds: the seed of each run, length R.
        time_unit: ``"init"``, ``"epoch"`` or ``"step"``; ``time_value``: the epoch or step (0 for init).
        train_config: the training configuration (as a dict) of the first run, with ``stop_at`` set to the time
            point (run r differs only by ``seed = seeds[r]``), or None at initialization.
    """

    method: str
    runs: np.ndarray
    seeds: tuple[int, ...]
    time_unit: str
    time_value: int
    train_config: dict | None = None

    @property
    def mean(self) -> np.ndarray:
        """Average over runs, ``(N,)``; ``+inf`` where any run scored ``+inf`` (forgetting: never learned)."""
        return self.runs.mean(0)

    @property
    def time(self) -> str:
        return time_label(self.time_unit, self.time_value)


def score_runs(
    method: str,
    data: IndexedDataset,
    make_model: Callable[[int], nn.Module],
    train_fn: TrainFn | None = None,
    *,
    at: int | None,
    runs: int = 10,
    seed0: int = 0,
    device: Device = None,
    progress: bool = True,
    **options,
) -> ScoreRuns:
    """Score ``data`` with ``method`` in ``runs`` independent runs stopped at time ``at``.

    Args:
        method: a name from :func:`datadiet.scores.list_scores`.
        data: the training set (scores are computed on it, un-augmented).
        make_model: builds a fresh network from a seed.
        train_fn: trains a network in place (see :class:`TrainFn`), e.g. ``datadiet.training.trainer_fn(config)``;
            required unless ``at == 0``.
        at: time point in ``train_fn``'s unit (epochs or steps); 0 = at initialization (no training; not for
            forgetting); None = the end of the schedule (``train_fn.budget``).
        runs, seed0: runs use seeds ``seed0 .. seed0 + runs - 1``.
        device: where each new network is put before training; None leaves it where ``make_model`` built it.
            Scores are computed on the network's device after training.
        progress: show a progress bar over the runs.
        options: passed to the score function (e.g. ``batch_size``).

    Returns:
        :class:`ScoreRuns`, float64 ``(runs, N)``, higher = harder / more important.
    """
    spec = get_score(method)
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    spec.check_options(options)
    unit, value = _time_point(spec.kind, train_fn, at)
    if spec.kind == "training" and unit == "epoch" and value < spec.epochs_needed(options):
        raise ValueError(f"{method} needs a recording of at least {spec.epochs_needed(options)} epochs, the runs stop "
                         f"at epoch {value}")
    seeds = tuple(range(seed0, seed0 + runs))
    if spec.kind == "data":  # the same for every network: computed once
        rows = [spec.score(None, data, **options)] * runs
    else:
        stop_at = value if unit != "init" else 0
        rows = [_one_run(spec, data, make_model, train_fn, seed, stop_at, device, options)
                for seed in _bar(seeds, f"{method} ({time_label(unit, value)})", progress)]
    describe = getattr(train_fn, "describe", None)
    schedule = describe(seed0, value) if unit != "init" and describe is not None else None
    return ScoreRuns(method, np.stack(rows).astype(np.float64), seeds, unit, value, schedule)


def _bar(seeds: tuple[int, ...], desc: str, progress: bool):
    if not progress:
        return seeds
    from tqdm.auto import tqdm

    return tqdm(seeds, desc=desc, leave=False)


def _one_run(
    spec: ScoreMethod, data: IndexedDataset, make_model: Callable[[int], nn.Module], train_fn: TrainFn | None,
    seed: int, stop_at: int, device: Device, options: dict,
) -> np.ndarray:
    """Scores of one run: a network built with ``seed``, trained to ``stop_at`` (0: not at all), then scored."""
    torch.manual_seed(seed)
    model = make_model(seed)
    if device is not None:
        model = model.to(device)
    listener = spec.callback(len(data)) if spec.kind == "training" else None
    if stop_at:
        train_fn(model, seed, stop_at, [listener] if listener else [])
    return spec.scores(listener.accumulator.compute(), **options) if listener else spec.score(model, data, **options)


def _time_point(kind: str, train_fn: TrainFn | None, at: int | None) -> tuple[str, int]:
    """The time unit and value of ``at``, checked against the score's kind and ``train_fn``."""
    if at == 0:
        if kind == "training":
            raise ValueError("this score is counted during training: at must be a positive time or None (the end)")
        return "init", 0
    if train_fn is None:
        raise ValueError(f"scores at {'the end' if at is None else at} need a train_fn (e.g. "
                         "datadiet.training.trainer_fn(config))")
    unit = getattr(train_fn, "time_unit", "epoch")
    if unit not in TIME_UNITS[1:]:
        raise ValueError(f"train_fn.time_unit must be 'epoch' or 'step', got {unit!r}")
    budget = getattr(train_fn, "budget", None)
    if at is None and budget is None:
        raise ValueError("at=None (the end of the schedule) needs train_fn.budget; give at explicitly")
    if at is not None and (at < 0 or (budget is not None and at > budget)):
        raise ValueError(f"at must be in [0, {'...' if budget is None else budget}] {unit}s or None, got {at}")
    return unit, budget if at is None else at
