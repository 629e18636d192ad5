"""Kernel velocity along the score ranking, epoch by epoch (paper 1, Sec. 5, Fig. 3).

One network (the tracked run) trains, its state kept after every epoch. Curve t is the velocity between the
states after t and t + 1 epochs; its examples are sorted by ascending score **at epoch t** (Fig. 3's caption:
"both scores and velocities are computed at the same epoch"), ties by position as in :mod:`datadiet.selection`:
rank 0 is the lowest-scored (easiest) example at that epoch. For each starting rank r, the window of ``window``
(paper: 100) consecutive examples at ranks ``r .. r + window - 1`` of that ranking gets its logit kernel at
epochs t and t + 1 (see :mod:`datadiet.analysis.kernel`), and their velocity is plotted against r, one curve per
epoch. The paper finds the kernel moving fastest early in training and on the high-scored examples.

Whose score ranks epoch t: by default the tracked network's own (EL2N of its state after t epochs, evaluation
mode, un-augmented inputs: :func:`epoch_scores`), so the ranking and the kernels come from one network at one
time; or, given as ``ranking_scores``, the mean over independent runs stopped at epoch t
(:func:`independent_epoch_scores`), paper 1's usual estimate of a score. The windows move between epochs, so a
curve costs two kernels per window (one is reused where a window is the same at consecutive epochs).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from torch import Tensor, nn
from tqdm.auto import tqdm

from datadiet.data.dataset import IndexedDataset
from datadiet.inference import Device, model_device
from datadiet.scores import ScoreMethod, get_score, list_scores
from datadiet.selection.budget import check_scores
from datadiet.training import TrainConfig, train

from .kernel import kernel_velocity, logit_kernel
from .plotting import band_line, save_figure
from .state_recorder import StateRecorder

__all__ = [
    "TrackedVelocity", "check_ranks", "epoch_scores", "epoch_windows", "evenly_spaced_ranks",
    "independent_epoch_scores", "network_score", "noise_title", "plot_kernel_velocity", "rank_windows",
    "recorded_states", "tracked_velocity", "velocity_sweep",
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


def epoch_windows(scores: ArrayLike, ranks: ArrayLike, window: int = 100) -> np.ndarray:
    """One ranking per curve: ``scores`` ``(E, N)`` -> positions ``(E, R, window)``, row t the
    :func:`rank_windows` of ``scores[t]``."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or len(s) == 0:
        raise ValueError(f"scores must be (epochs, N), one ranking per curve, got shape {s.shape}")
    return np.stack([rank_windows(row, ranks, window) for row in s])


def network_score(name: str) -> ScoreMethod:
    """The score ``name`` if it is computed from a network's weights alone (kind ``"model"``), else ``ValueError``."""
    spec = get_score(name)
    if spec.kind != "model":
        valid = [n for n in list_scores() if get_score(n).kind == "model"]
        raise ValueError(f"score {name!r} is not computed from one network's weights; valid: {', '.join(valid)}")
    return spec


def epoch_scores(
    model: nn.Module, states: Sequence[Mapping[str, Tensor]], data: IndexedDataset, *, score: str = "el2n",
    device: Device = None,
) -> np.ndarray:
    """``score`` (e.g. EL2N, paper 1 eq. 2) of every example under each state: float64 ``(len(states), N)``.

    Higher = harder. Computed as :mod:`datadiet.scores` computes it (evaluation mode, un-augmented inputs) on a
    copy of ``model`` loaded with each state; ``model`` is not modified.
    """
    spec = network_score(score)
    if not states:
        raise ValueError("need at least one state to score")
    assert spec.score is not None  # a "model" score has its function
    net = copy.deepcopy(model).to(model_device(model, device))
    rows = []
    for state in states:
        net.load_state_dict(state)
        rows.append(spec.score(net, data, device=device))
    return np.stack(rows).astype(np.float64)


def recorded_states(
    model: nn.Module, data: IndexedDataset, config: TrainConfig, epochs: int, *, device: Device = None,
    out_dir: str | os.PathLike | None = None,
) -> list[dict[str, Tensor]]:
    """Train ``model`` in place for the first ``epochs`` epochs of ``config``'s schedule (seed ``config.seed``);
    its states after 0, 1, ..., ``epochs`` epochs. With ``out_dir`` the training resumes from its checkpoint."""
    recorder = StateRecorder(range(epochs + 1))
    train(model, data, replace(config, stop_at=epochs), callbacks=[recorder], out_dir=out_dir, device=device)
    return recorder.ordered()


def independent_epoch_scores(
    make_model: Callable[[int], nn.Module],
    data: IndexedDataset,
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    epochs: int,
    score: str = "el2n",
    device: Device = None,
    progress: bool = True,
    out_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """``score`` after 0 .. ``epochs - 1`` epochs of independent runs: float64 ``(len(seeds), epochs, N)``.

    Run s is ``make_model(s)`` trained on ``config``'s schedule with seed s, stopped after ``epochs - 1`` epochs;
    its mean over the runs (axis 0) is ``ranking_scores`` for :func:`tracked_velocity` tracking ``epochs``
    epochs. With ``out_dir`` run s keeps its checkpoint in ``out_dir/seed<s>`` and resumes from it.
    """
    network_score(score)
    if config.epochs is None or not 1 <= epochs <= config.epochs:
        raise ValueError(f"epochs must be in [1, the schedule's epochs] of a schedule in epochs, got {epochs}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
    rows = []
    for seed in tqdm(seeds, desc=f"{score} runs", disable=not progress, leave=False):
        net = make_model(seed)
        folder = Path(out_dir) / f"seed{seed}" if out_dir is not None else None
        states = recorded_states(net, data, replace(config, seed=seed), epochs - 1, device=device, out_dir=folder)
        rows.append(epoch_scores(net, states, data, score=score))
    return np.stack(rows)


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

    ``velocity[t, r]`` compares the kernels at ``states[t]`` and ``states[t + 1]`` of the window at rank
    ``ranks[r]`` of ``scores[t]``.

    Args:
        model: the network architecture (never modified); each checkpoint's weights are passed to it functionally.
        states: state dicts in time order, one epoch apart (e.g. :func:`recorded_states`).
        data: the training set the scores are over; its un-augmented inputs are used.
        scores: ``(len(states) - 1, N)`` per position, higher = harder; row t ranks the examples of curve t (Fig. 3:
            the score at the curve's first epoch, :func:`epoch_scores`). A fixed ranking is one row repeated.
        ranks: starting ranks in ascending score order.
        window: examples per kernel (paper: 100); the kernel has ``window * K`` rows.
        chunk_examples, chunk_params, device: see :func:`logit_kernel`.
    """
    if len(states) < 2:
        raise ValueError(f"need at least two checkpoints to measure a velocity, got {len(states)}")
    shape = np.shape(scores)
    if shape != (len(states) - 1, len(data)):
        raise ValueError(f"scores must be (checkpoints - 1, N) = ({len(states) - 1}, {len(data)}), one ranking per "
                         f"curve, got shape {shape}")
    windows = epoch_windows(scores, ranks, window)
    out = np.zeros(windows.shape[:2])
    held: dict[bytes, Tensor] = {}  # kernels at states[t] of the windows of curve t - 1

    def kernel(state: Mapping[str, Tensor], positions: np.ndarray) -> Tensor:
        return logit_kernel(model, data.x[positions], state=state, chunk_examples=chunk_examples,
                            chunk_params=chunk_params, device=device)

    with tqdm(total=out.size, desc="kernel velocity", unit="window", disable=not progress, leave=False) as bar:
        for t in range(len(windows)):
            later = {w.tobytes(): kernel(states[t + 1], w) for w in windows[t]}
            for r, w in enumerate(windows[t]):
                earlier = held.get(w.tobytes())
                out[t, r] = kernel_velocity(kernel(states[t], w) if earlier is None else earlier, later[w.tobytes()])
                bar.update(1)
            held = later
    return out


@dataclass(frozen=True)
class TrackedVelocity:
    """The kernel velocities of one tracked run.

    Attributes:
        ranks: starting ranks ``(R,)`` (ascending score order) of the windows of ``window`` examples.
        velocity: ``(E, R)``; ``velocity[e, r]`` is between the states after e and e + 1 epochs, on ``windows[e, r]``.
        window: examples per window.
        windows: positions ``(E, R, window)``: ``windows[e, r]`` is the window at rank ``ranks[r]`` of the ranking
            at epoch e.
    """

    ranks: np.ndarray
    velocity: np.ndarray
    window: int
    windows: np.ndarray

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
                "windows": self.windows.tolist(),
                "rows": "velocity[e][r]: between the states after e and e + 1 epochs, on windows[e][r], the window at "
                        "ranks[r] of the ranking at epoch e"}


def tracked_velocity(
    model: nn.Module,
    data: IndexedDataset,
    config: TrainConfig,
    *,
    score: str = "el2n",
    ranking_scores: ArrayLike | None = None,
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

    The windows of curve t are ranked by ``score`` of this network after t epochs (:func:`epoch_scores`), or by
    ``ranking_scores[t]`` when given (``(track_epochs, N)``, e.g. the mean of :func:`independent_epoch_scores`;
    ``score`` is then not used). They start at ``ranks`` or, without them, at ``num_ranks`` evenly spaced ranks.
    With ``out_dir`` the training keeps its checkpoint (the recorded states included) there, and a call with the
    same arguments resumes it.
    """
    if config.epochs is None:
        raise ValueError("kernel velocity counts time in epochs: give the schedule in epochs, not steps")
    track = config.epochs if track_epochs is None else track_epochs
    if not 1 <= track <= config.epochs:
        raise ValueError(f"track_epochs must be in [1, {config.epochs}] (the schedule's epochs), got {track}")
    starts = evenly_spaced_ranks(len(data), num_ranks, window) if ranks is None else check_ranks(ranks, len(data),
                                                                                                 window)
    if ranking_scores is None:
        network_score(score)
    elif np.shape(ranking_scores) != (track, len(data)):
        raise ValueError(f"ranking_scores must be (track_epochs, N) = ({track}, {len(data)}), one ranking per "
                         f"curve, got shape {np.shape(ranking_scores)}")
    states = recorded_states(model, data, config, track, device=device, out_dir=out_dir)
    scores = epoch_scores(model, states[:-1], data, score=score) if ranking_scores is None else ranking_scores
    velocity = velocity_sweep(model, states, data, scores, starts, window=window, chunk_examples=chunk_examples,
                              chunk_params=chunk_params, progress=progress)
    return TrackedVelocity(starts, velocity, window, epoch_windows(scores, starts, window))


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
    ``first_epoch + e`` and ``first_epoch + e + 1`` epochs; x is the starting rank in ascending score order (for
    each curve, of the scores at its first epoch).
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
        ax.set_xlabel("starting rank (ascending score, same epoch)")
    axes[0].set_ylabel("kernel velocity")
    axes[-1].legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)
