"""Scores averaged over independent runs, as paper 1 defines them: E over weights w_t of score(w_t, x).

At ``t = 0`` the expectation is over independent random initializations; at epoch (or step) ``t`` over independent
training runs of the full schedule stopped at ``t``. Run ``r`` uses seed ``seed0 + r`` for the model's
initialization (``torch.manual_seed`` before ``make_model(seed)``) and for training (``TrainConfig.seed``). Every
run's raw scores are kept, so averages, spreads and rank correlations can be recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device
from datadiet.scores.registry import ScoreMethod, get_score
from datadiet.training import TrainConfig, default_device, train

__all__ = ["TIME_UNITS", "ScoreRuns", "score_runs", "time_label"]

TIME_UNITS = ("init", "epoch", "step")


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
    config: TrainConfig | None = None,
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
        config: the training schedule; required unless ``at == 0``. Its ``seed`` and ``stop_at`` are replaced.
        at: time point in the config's budget unit (epochs or steps); 0 = at initialization (no training; not for
            forgetting); None = the end of the schedule.
        runs, seed0: runs use seeds ``seed0 .. seed0 + runs - 1``.
        options: passed to the score function (e.g. ``batch_size``).
    """
    spec = get_score(method)
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    unit, value = _time_point(spec.kind, config, at)
    device = torch.device(device) if device is not None else default_device()
    seeds = tuple(range(seed0, seed0 + runs))
    if spec.kind == "data":  # the same for every network: computed once
        rows = [spec.score(None, data, **options)] * runs
    else:
        bar = tqdm(seeds, desc=f"{method} ({unit} {value})", disable=not progress, leave=False)
        rows = [_one_run(spec, data, make_model, config, seed, value if unit != "init" else 0, device, options)
                for seed in bar]
    schedule = replace(config, seed=seed0, stop_at=value).to_dict() if unit != "init" else None
    return ScoreRuns(method, np.stack(rows).astype(np.float64), seeds, unit, value, schedule)


def _one_run(
    spec: ScoreMethod, data: IndexedDataset, make_model: Callable[[int], nn.Module], config: TrainConfig | None,
    seed: int, stop_at: int, device: torch.device, options: dict,
) -> np.ndarray:
    """Scores of one run: a network built with ``seed``, trained to ``stop_at`` (0: not at all), then scored."""
    torch.manual_seed(seed)
    model = make_model(seed).to(device)
    counter = spec.counter() if spec.kind == "training" else None
    if stop_at:
        train(model, data, replace(config, seed=seed, stop_at=stop_at), callbacks=[counter] if counter else [],
              device=device)
    return counter.compute() if counter else spec.score(model, data, device=device, **options)


def _time_point(kind: str, config: TrainConfig | None, at: int | None) -> tuple[str, int]:
    """The time unit and value of ``at``, checked against the score's kind and the config."""
    if at == 0:
        if kind == "training":
            raise ValueError("this score is counted during training: at must be a positive time or None (the end)")
        return "init", 0
    if config is None:
        raise ValueError(f"scores at {'the end' if at is None else at} need a TrainConfig")
    budget = config.epochs if config.epochs is not None else config.steps
    if at is not None and not 0 < at <= budget:
        raise ValueError(f"at must be in [0, {budget}] {config.budget_unit} or None, got {at}")
    return config.budget_unit.rstrip("s"), budget if at is None else at
