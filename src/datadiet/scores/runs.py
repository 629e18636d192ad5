"""Scores averaged over independent runs, as paper 1 defines them: E over weights w_t of score(w_t, x).

At ``t = 0`` the expectation is over independent random initializations; at epoch (or step) ``t`` over independent
training runs of the full schedule stopped at ``t``. Run ``r`` uses seed ``seed0 + r`` for the model's
initialization (``torch.manual_seed`` before ``make_model(seed)``) and for training (``train_fn(..., seed, ...)``).
Every run's raw scores are kept, so averages, spreads and rank correlations can be recomputed.

The training-dynamics scores (:func:`recorded_scores`) are derived from one recording per run; with
``recordings_dir`` each run's :class:`~datadiet.scores.recording.DynamicsRecording` is saved there as
``seed{seed}.npz`` with its provenance, so any recorded score can be derived again later without retraining
(:meth:`datadiet.scores.ScoreFile.from_recordings`). Only one run's recording is in memory at a time.

Training is yours: ``train_fn`` is any function that trains a model in place (see :class:`TrainFn`);
:func:`datadiet.training.trainer_fn` makes one from datadiet's trainer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from datadiet.callbacks import AccumulatorCallback, Callback
from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device
from datadiet.scores.recording import DynamicsRecording, TrainingDynamics, feed_dynamics
from datadiet.scores.registry import SCORES, ScoreMethod, get_score

__all__ = [
    "RECORDING_PROVENANCE", "TIME_UNITS", "ScoreRuns", "TrainFn", "recorded_scores", "recording_name", "score_runs",
    "time_label",
]

TIME_UNITS = ("init", "epoch", "step")
RECORDING_PROVENANCE = ("dataset", "num_examples", "label_fingerprint", "input_fingerprint", "seed", "time_unit",
                        "time_value", "train_config", "model", "model_kwargs")
"""Keys of the provenance of a recording saved by :func:`score_runs` (``label_fingerprint`` is the dataset's)."""


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


def recorded_scores() -> dict[str, bool]:
    """The scores derived from one training-dynamics recording, sorted by name, each with whether it needs the
    recording's probability vectors."""
    recorders = {name: m.accumulator(1) for name, m in sorted(SCORES.items())
                 if m.derive is not None and m.accumulator is not None}
    return {name: r.keep_probabilities for name, r in recorders.items() if isinstance(r, TrainingDynamics)}


def recording_name(seed: int) -> str:
    """The file name of run ``seed``'s recording in a ``recordings_dir``: ``seed{seed}.npz``."""
    return f"seed{seed}.npz"


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
        mode: the network mode the scores saw (the registry's ``mode_of(options)``); None: the method's default.
    """

    method: str
    runs: np.ndarray
    seeds: tuple[int, ...]
    time_unit: str
    time_value: int
    train_config: dict | None = None
    mode: str | None = None

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
    recordings_dir: str | os.PathLike | None = None,
    keep_probabilities: bool = False,
    **options,
) -> ScoreRuns:
    """Score ``data`` with ``method`` in ``runs`` independent runs stopped at time ``at``.

    Args:
        method: a name from :func:`datadiet.scores.list_scores`.
        data: the training set (scores are computed on it, un-augmented).
        make_model: builds a fresh network from a seed; an optional ``make_model.describe() -> (name, kwargs)``
            is recorded as the model of saved recordings.
        train_fn: trains a network in place (see :class:`TrainFn`), e.g. ``datadiet.training.trainer_fn(config)``;
            required unless ``at == 0``.
        at: time point in ``train_fn``'s unit (epochs or steps); 0 = at initialization (no training; not for
            forgetting); None = the end of the schedule (``train_fn.budget``).
        runs, seed0: runs use seeds ``seed0 .. seed0 + runs - 1``.
        device: where each new network is put before training; None leaves it where ``make_model`` built it.
            Scores are computed on the network's device after training.
        progress: show a progress bar over the runs.
        recordings_dir: for a recorded score (:func:`recorded_scores`), save each run's recording in this folder
            as ``seed{seed}.npz`` (see :func:`recording_name`; an existing file is replaced), its provenance
            holding :data:`RECORDING_PROVENANCE`; created if missing.
        keep_probabilities: with ``recordings_dir``, keep the probability vectors in every recording (2 K bytes
            per example and epoch more) so the scores that need them can be derived later; those scores keep
            them anyway.
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
    keeper = _keeper(method, data, make_model, train_fn, (unit, value), recordings_dir, keep_probabilities)
    seeds = tuple(range(seed0, seed0 + runs))
    if spec.kind == "data":  # the same for every network: computed once
        assert spec.score is not None  # ScoreMethod requires it for this kind
        rows = [spec.score(None, data, **options)] * runs
    else:
        stop_at = value if unit != "init" else 0
        rows = [_one_run(spec, data, make_model, train_fn, seed, stop_at, device, options, keeper)
                for seed in _bar(seeds, f"{method} ({time_label(unit, value)})", progress)]
    describe = getattr(train_fn, "describe", None)
    schedule = describe(seed0, value) if unit != "init" and describe is not None else None
    return ScoreRuns(method, np.stack(rows).astype(np.float64), seeds, unit, value, schedule, spec.mode_of(options))


def _bar(seeds: tuple[int, ...], desc: str, progress: bool):
    if not progress:
        return seeds
    from tqdm.auto import tqdm

    return tqdm(seeds, desc=desc, leave=False)


@dataclass(frozen=True)
class _Keeper:
    """Saves each run's recording in ``folder`` with the provenance common to the runs plus the run's own."""

    folder: Path
    probabilities: bool
    common: dict[str, Any]
    describe: Callable[[int, int], dict] | None

    def listener(self, spec: ScoreMethod, num_examples: int) -> AccumulatorCallback:
        if not self.probabilities:
            return spec.callback(num_examples)
        return AccumulatorCallback(TrainingDynamics(num_examples, keep_probabilities=True), feed_dynamics)

    def save(self, recording: DynamicsRecording, seed: int) -> None:
        config = self.describe(seed, self.common["time_value"]) if self.describe is not None else None
        provenance = {**self.common, "seed": seed, "train_config": config}
        replace(recording, provenance=provenance).save(self.folder / recording_name(seed))


def _keeper(method: str, data: IndexedDataset, make_model: Callable[[int], nn.Module], train_fn: TrainFn | None,
            time: tuple[str, int], recordings_dir: str | os.PathLike | None, probabilities: bool) -> _Keeper | None:
    """What keeps the runs' recordings (None without ``recordings_dir``), its folder made before any training."""
    if recordings_dir is None:
        if probabilities:
            raise ValueError("keep_probabilities is for saved recordings: give recordings_dir too")
        return None
    recorded = recorded_scores()
    if method not in recorded:
        raise ValueError(f"{method} is not derived from a training-dynamics recording, so there is none to save; "
                         f"recorded scores: {', '.join(recorded)}")
    folder = Path(recordings_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot make the recordings folder {folder}: {error}") from None
    name, kwargs = make_model.describe() if hasattr(make_model, "describe") else ("", {})
    common = {"dataset": data.name, "num_examples": len(data), "label_fingerprint": data.label_fingerprint(),
              "input_fingerprint": data.input_fingerprint(), "time_unit": time[0], "time_value": time[1],
              "model": name, "model_kwargs": dict(kwargs)}
    return _Keeper(folder, probabilities or recorded[method], common, getattr(train_fn, "describe", None))


def _listener(spec: ScoreMethod, num_examples: int, keeper: _Keeper | None) -> AccumulatorCallback | None:
    """The accumulator of a training score (the keeper's when recordings are saved); None for other kinds."""
    if spec.kind != "training":
        return None
    return keeper.listener(spec, num_examples) if keeper is not None else spec.callback(num_examples)


def _one_run(
    spec: ScoreMethod, data: IndexedDataset, make_model: Callable[[int], nn.Module], train_fn: TrainFn | None,
    seed: int, stop_at: int, device: Device, options: dict, keeper: _Keeper | None,
) -> np.ndarray:
    """Scores of one run: a network built with ``seed``, trained to ``stop_at`` (0: not at all), then scored; its
    recording saved by ``keeper`` when given."""
    torch.manual_seed(seed)
    model = make_model(seed)
    if device is not None:
        model = model.to(device)
    listener = _listener(spec, len(data), keeper)
    if stop_at:
        assert train_fn is not None  # _time_point() asks for one unless the scores are taken at init
        train_fn(model, seed, stop_at, [listener] if listener else [])
    if listener is None:
        assert spec.score is not None  # ScoreMethod requires it for every kind but training
        return spec.score(model, data, **options)
    result = listener.accumulator.compute()
    if keeper is not None:
        keeper.save(result, seed)
    return spec.scores(result, **options)


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
    if at is None:
        if budget is None:
            raise ValueError("at=None (the end of the schedule) needs train_fn.budget; give at explicitly")
        return unit, budget
    if at < 0 or (budget is not None and at > budget):
        raise ValueError(f"at must be in [0, {'...' if budget is None else budget}] {unit}s or None, got {at}")
    return unit, at
