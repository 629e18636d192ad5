"""Kernel velocity along the score ranking, epoch by epoch (paper 1, Sec. 5, Fig. 3).

Examples are sorted by ascending score (ties by position, as in :mod:`datadiet.selection`): rank 0 is the
lowest-scored (easiest) example. For each starting rank r, the window of ``window`` (paper: 100) consecutive
examples at ranks ``r .. r + window - 1`` gets its logit kernel at every checkpoint (see
:mod:`datadiet.analysis.kernel`), and the velocity between consecutive checkpoints (one epoch apart) is plotted
against r, one curve per epoch. The paper finds the kernel moving fastest early in training and on the
high-scored examples.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from torch import Tensor, nn
from tqdm.auto import tqdm

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device
from datadiet.selection.budget import check_scores
from datadiet.training import TrainConfig, train

from .kernel import kernel_velocity, logit_kernel
from .plotting import band_line, save_figure
from .state_recorder import StateRecorder

__all__ = [
    "TrackedVelocity", "check_ranks", "evenly_spaced_ranks", "noise_title", "plot_kernel_velocity", "rank_windows",
    "tracked_velocity", "velocity_sweep",
]


def rank_windows(scores: ArrayLike, ranks: ArrayLike, window: int = 100) -> np.ndarray:
    """Positions of the ``window`` examples at ranks ``r .. r + window - 1`` (ascending score): ``(R, window)``."""
    s = check_scores(scores)
    order = np.argsort(s, kind="stable")
    return np.stack([order[start : start + window] for start in check_ranks(ranks, len(s), window)])


def check_ranks(ranks: ArrayLike, num_examples: int, window: int = 100) -> np.ndarray:
    """``ranks`` as int64 after checking that each window of ``window`` examples fits in ``num_examples``."""
    if not isinstance(window, (int, np.integer)) or not 0 < window <= num_examples:
        raise ValueError(f"window must be an integer in [1, {num_examples}], got {window!r}")
    r = np.asarray(ranks)
    if r.ndim != 1 or len(r) == 0 or not np.issubdtype(r.dtype, np.integer):
        raise ValueError(f"ranks must be a non-empty 1-D sequence of integers, got {ranks!r}")
    if r.min() < 0 or r.max() > num_examples - window:
        raise ValueError(f"starting ranks must be in [0, {num_examples - window}] (N={num_examples}, "
                         f"window={window}), got {r.min()}..{r.max()}")
    return r.astype(np.int64)


def evenly_spaced_ranks(num_examples: int, count: int, window: int = 100) -> np.ndarray:
    """``count`` starting ranks from 0 to ``num_examples - window``, evenly spaced and rounded, int64."""
    if count < 1 or window > num_examples:
        raise ValueError(f"need count >= 1 and window <= N, got count={count}, window={window}, N={num_examples}")
    return np.unique(np.linspace(0, num_examples - window, count).round().astype(np.int64))


def velocity_sweep(
    model: nn.Module,
    states: Sequence[Mapping[str, Tensor]],
    data: IndexedDataset,
    scores: ArrayLike,
    ranks: ArrayLike,
    *,
    window: int = 100,
    chunk_examples: int = 10,
    chunk_params: int | None = None,
    device: Device = None,
    progress: bool = True,
) -> np.ndarray:
    """Kernel velocity of each rank window between consecutive checkpoints: float64 ``(len(states) - 1, R)``.

    Args:
        model: the network architecture (never modified); each checkpoint's weights are passed to it functionally.
        states: state dicts in time order, one epoch apart (e.g. :class:`StateRecorder` ``.ordered()``).
        data: the training set the scores are over; its un-augmented inputs are used.
        scores: ``(N,)`` per position, higher = harder; ``ranks``: starting ranks in ascending score order.
        window: examples per kernel (paper: 100); the kernel has ``window * K`` rows.
        chunk_examples, chunk_params, device: see :func:`logit_kernel`.
    """
    if len(states) < 2:
        raise ValueError(f"need at least two checkpoints to measure a velocity, got {len(states)}")
    if len(np.asarray(scores)) != len(data):
        raise ValueError(f"scores cover {len(np.asarray(scores))} examples, the data {len(data)}")
    windows = rank_windows(scores, ranks, window)
    out = np.zeros((len(states) - 1, len(windows)))
    previous: list[Tensor] = []
    with tqdm(total=len(states) * len(windows), desc="kernel velocity", unit="kernel", disable=not progress,
              leave=False) as bar:
        for t, state in enumerate(states):
            current = []
            for r, positions in enumerate(windows):
                current.append(logit_kernel(model, data.x[positions], state=state, chunk_examples=chunk_examples,
                                            chunk_params=chunk_params, device=device))
                if previous:
                    out[t - 1, r] = kernel_velocity(previous[r], current[r])
                bar.update(1)
            previous = current
    return out


@dataclass(frozen=True)
class TrackedVelocity:
    """The kernel velocities of one tracked run.

    Attributes:
        ranks: starting ranks ``(R,)`` (ascending score order) of the windows of ``window`` examples.
        velocity: ``(E, R)``; ``velocity[e, r]`` is between the states after e and e + 1 epochs, window ``ranks[r]``.
        window: examples per window.
    """

    ranks: np.ndarray
    velocity: np.ndarray
    window: int

    def extremes(self, fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        """Mean velocity per epoch ``(E,)`` of the lowest- and of the highest-ranked windows: those whose starting
        rank lies in the lowest (highest) ``fraction`` of the span of the measured starting ranks."""
        low, high = self.ranks.min(), self.ranks.max()
        bottom = self.ranks <= low + fraction * (high - low)
        top = self.ranks >= high - fraction * (high - low)
        return self.velocity[:, bottom].mean(1), self.velocity[:, top].mean(1)

    def to_dict(self) -> dict:
        """JSON-compatible numbers."""
        return {"ranks": self.ranks.tolist(), "velocity": self.velocity.tolist(), "window": self.window,
                "rows": "velocity[e][r]: between the states after e and e + 1 epochs, window at ranks[r]"}


def tracked_velocity(
    model: nn.Module,
    data: IndexedDataset,
    config: TrainConfig,
    scores: ArrayLike,
    *,
    track_epochs: int | None = None,
    ranks: Sequence[int] | None = None,
    num_ranks: int = 10,
    window: int = 100,
    chunk_examples: int = 10,
    chunk_params: int | None = None,
    device: Device = None,
    progress: bool = True,
    out_dir: str | os.PathLike | None = None,
) -> TrackedVelocity:
    """Fig. 3's experiment: train the freshly initialized ``model`` (in place) for the first ``track_epochs``
    epochs (default: all) of ``config``'s schedule (seed ``config.seed``), keeping its state after every epoch,
    then measure the kernel velocity of each window between consecutive states (:func:`velocity_sweep`).

    ``scores`` ``(N,)`` order ``data`` (computed in runs independent of this one); the windows start at ``ranks``
    or, without them, at ``num_ranks`` evenly spaced ranks. With ``out_dir`` the training keeps its checkpoint
    (the recorded states included) there, and a call with the same arguments resumes it.
    """
    if config.epochs is None:
        raise ValueError("kernel velocity counts time in epochs: give the schedule in epochs, not steps")
    track = config.epochs if track_epochs is None else track_epochs
    if not 1 <= track <= config.epochs:
        raise ValueError(f"track_epochs must be in [1, {config.epochs}] (the schedule's epochs), got {track}")
    if ranks is None:
        starts = evenly_spaced_ranks(len(data), num_ranks, window)
    else:
        starts = check_ranks(ranks, len(data), window)
    recorder = StateRecorder(range(track + 1))
    train(model, data, replace(config, stop_at=track), callbacks=[recorder], out_dir=out_dir, device=device)
    velocity = velocity_sweep(model, recorder.ordered(), data, scores, starts, window=window,
                              chunk_examples=chunk_examples, chunk_params=chunk_params, progress=progress)
    return TrackedVelocity(starts, velocity, window)


def noise_title(label_noise: float) -> str:
    """The title of a panel at a label-noise fraction: "no label noise" or "10% label noise"."""
    return f"{label_noise:.0%} label noise" if label_noise else "no label noise"


def plot_kernel_velocity(
    ranks: ArrayLike,
    panels: Mapping[str, ArrayLike],
    path: str | os.PathLike,
    *,
    first_epoch: int = 0,
    title: str | None = None,
) -> Path:
    """One panel per entry of ``panels`` (title -> velocities), one curve per epoch; returns the path.

    Velocities are ``(E, R)``, or ``(S, E, R)`` for S independent runs: then each curve is the mean over the runs
    with a 16th-84th percentile band. Curve ``e`` is the velocity between the checkpoints after
    ``first_epoch + e`` and ``first_epoch + e + 1`` epochs; x is the starting rank in ascending score order.
    """
    x = np.asarray(ranks)
    if not panels:
        raise ValueError("panels must hold at least one (title -> velocities) entry")
    figure = Figure(figsize=(4.5 * len(panels), 3.8), layout="constrained")
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (name, values) in zip(axes, panels.items()):
        v = np.asarray(values, dtype=np.float64)
        if v.ndim not in (2, 3) or v.shape[-1] != len(x):
            raise ValueError(f"panel {name!r}: velocities must have shape (epochs, {len(x)}) or (runs, epochs, "
                             f"{len(x)}), got {v.shape}")
        runs = v if v.ndim == 3 else v[None]
        epochs = runs.shape[1]
        for e in range(epochs):
            band_line(ax, x, runs[:, e], marker="o", ms=3, color=colormaps["viridis"](e / max(1, epochs - 1)),
                      label=f"epoch {first_epoch + e}\u2192{first_epoch + e + 1}")
        ax.set_title(name)
        ax.set_xlabel("starting rank (ascending score)")
    axes[0].set_ylabel("kernel velocity")
    axes[-1].legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)
