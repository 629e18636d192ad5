"""Linear-mode-connectivity error barrier against spawn time (paper 1, Sec. 5, eq. 5, Fig. 4; Frankle et al. 2020).

A parent network trains on the full schedule; at spawn time t two children start from its weights and train to
the end with different SGD noise (see :mod:`datadiet.analysis.spawning`). The error of ``(1 - a) w_1 + a w_2``
is measured along the line (see :mod:`datadiet.analysis.interpolation` for BatchNorm), and the **barrier** is
paper 1's eq. 5, ``max_a err(a) - ((1 - a) err(0) + a err(1))``: how far the error rises above the straight line
between the two children's own errors. 0 when the two children sit in one linearly connected basin (even if one
of them is worse than the other), high when SGD noise after t still sends them to different ones. Paper 1
measures it on 1000 random training examples and on the 1000 highest- and 1000 lowest-EL2N ones (EL2N of the
parent at epoch 10), and finds the barrier on the high-scored examples falling to zero later in training than on
the others.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike
from torch import nn
from tqdm.auto import tqdm

from datadiet.data.dataset import IndexedDataset
from datadiet.scores import el2n
from datadiet.selection.budget import check_scores
from datadiet.training import TrainConfig, default_device, train

from .interpolation import DEFAULT_ALPHAS, interpolation_errors
from .plotting import band_line, new_figure, save_figure
from .spawning import train_child
from .state_recorder import StateRecorder

__all__ = ["BARRIER_REFERENCES", "SpawnBarriers", "check_path_alphas", "error_barrier", "plot_error_barriers",
           "score_subsets", "seeded_spawn_barriers", "spawn_barriers"]


BARRIER_REFERENCES = ("line", "mean")
"""What :func:`error_barrier` measures the error above: the line between the endpoints' errors (paper 1, eq. 5)
or their mean."""


def error_barrier(errors: ArrayLike, alphas: ArrayLike, *, reference: str = "line") -> float:
    """The error barrier of a path (paper 1, eq. 5): ``max_a err(a) - ((1 - a) err(0) + a err(1))``, >= 0.

    ``errors[i]`` is the error of the network at ``alphas[i]``, coefficients rising strictly from 0 to 1 (e.g.
    :func:`~datadiet.analysis.alpha_grid`). Higher = the error rises further above the straight line between the
    endpoints' errors = the two networks are less linearly connected. ``reference="mean"`` measures the height
    above the endpoints' mean instead, ``max_a err(a) - (err(0) + err(1)) / 2``, which also counts a difference
    between the endpoints' errors as a barrier (not paper 1's definition).
    """
    a = check_path_alphas(alphas)
    e = np.asarray(errors, dtype=np.float64)
    if e.shape != a.shape or not np.all(np.isfinite(e)):
        raise ValueError(f"errors must be {len(a)} finite numbers, one per alpha, got shape {e.shape}")
    if reference not in BARRIER_REFERENCES:
        raise ValueError(f"reference must be one of {', '.join(BARRIER_REFERENCES)}, got {reference!r}")
    baseline = (1 - a) * e[0] + a * e[-1] if reference == "line" else (e[0] + e[-1]) / 2
    return float((e - baseline).max())


def check_path_alphas(alphas: ArrayLike) -> np.ndarray:
    """``alphas`` as float64 after checking that they rise strictly from 0 to 1 (a whole interpolation path)."""
    a = np.asarray(alphas, dtype=np.float64)
    if a.ndim != 1 or len(a) < 2 or a[0] != 0 or a[-1] != 1 or not np.all(np.diff(a) > 0):
        raise ValueError(f"alphas must rise strictly from 0 to 1 (at least two points, e.g. alpha_grid(11)), "
                         f"got {np.asarray(alphas).tolist()!r}")
    return a


def score_subsets(scores: ArrayLike, size: int, *, seed: int) -> dict[str, np.ndarray]:
    """Positions (sorted) of the ``size`` highest- and lowest-scored examples and of ``size`` random ones.

    Ties are ordered by position, as in :mod:`datadiet.selection`; the random subset is drawn by ``seed``.
    """
    s = check_scores(scores)
    if not isinstance(size, (int, np.integer)) or not 0 < size <= len(s):
        raise ValueError(f"size must be an integer in [1, {len(s)}], got {size!r}")
    order = np.argsort(s, kind="stable")
    random = np.random.default_rng(seed).choice(len(s), size, replace=False)
    return {"highest": np.sort(order[len(s) - size:]), "lowest": np.sort(order[:size]), "random": np.sort(random)}


@dataclass(frozen=True)
class SpawnBarriers:
    """Errors along the interpolation path and barriers (paper 1, eq. 5), per evaluation set and spawn time.

    Attributes:
        spawn_epochs: spawn times t (epochs of the parent), length S.
        alphas: interpolation coefficients, length A, rising from 0 to 1.
        errors: set name -> errors ``(S, A)``; the sets are the training subsets (plus ``"test"`` if given).
        subsets: training subset name -> positions.
        score_epoch: the parent epoch whose EL2N chose the subsets.
        child_seeds: the two children's training seeds.
    """

    spawn_epochs: tuple[int, ...]
    alphas: tuple[float, ...]
    errors: dict[str, np.ndarray]
    subsets: dict[str, np.ndarray]
    score_epoch: int
    child_seeds: tuple[int, int]

    @property
    def barriers(self) -> dict[str, np.ndarray]:
        """Set name -> barrier (paper 1, eq. 5: above the line between the children's errors) at each spawn time
        ``(S,)``."""
        return {name: np.array([error_barrier(row, self.alphas) for row in e]) for name, e in self.errors.items()}

    def to_dict(self) -> dict:
        """JSON-compatible numbers."""
        return {
            "spawn_epochs": list(self.spawn_epochs), "alphas": list(self.alphas), "score_epoch": self.score_epoch,
            "child_seeds": list(self.child_seeds), "errors": {k: v.tolist() for k, v in self.errors.items()},
            "barriers": {k: v.tolist() for k, v in self.barriers.items()},
            "barrier_definition": "paper 1 eq. 5: max_a err(a) - ((1 - a) err(0) + a err(1))",
            "subsets": {k: v.tolist() for k, v in self.subsets.items()},
        }


def spawn_barriers(
    model: nn.Module,
    train_data: IndexedDataset,
    config: TrainConfig,
    spawn_epochs: Sequence[int],
    *,
    score_epoch: int,
    subset_size: int = 1000,
    child_seeds: tuple[int, int] = (1, 2),
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    recompute_bn: bool = True,
    bn_examples: int = 4096,
    test_data: IndexedDataset | None = None,
    subset_seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = True,
    out_dir: str | os.PathLike | None = None,
) -> SpawnBarriers:
    """Fig. 4's experiment from the freshly initialized ``model`` (not modified) and the parent's ``config``
    (the full schedule, in epochs; its ``stop_at`` is ignored).

    The parent trains (seed ``config.seed``) to the latest spawn or score epoch; the subsets come from its EL2N
    after ``score_epoch`` epochs; at each spawn epoch two children (``child_seeds``) train to ``config.epochs``.
    ``alphas`` must rise strictly from 0 to 1 (the barrier, eq. 5, needs both children's own errors).
    Costs ``max(spawn, score) + 2 * sum(E - t)`` epochs of training. With ``out_dir`` every training keeps its
    checkpoint there (``parent/``, ``child-e<t>-s<seed>/``): a call with the same arguments resumes them.
    """
    spawns = tuple(sorted({int(t) for t in spawn_epochs}))
    if config.epochs is None or not spawns or spawns[0] < 0 or spawns[-1] >= config.epochs:
        raise ValueError(f"spawn epochs must be in [0, epochs - 1] of a schedule in epochs, got {spawn_epochs!r}")
    if not 0 <= score_epoch <= config.epochs:
        raise ValueError(f"score_epoch must be in [0, {config.epochs}], got {score_epoch}")
    if not 0 < subset_size <= len(train_data):
        raise ValueError(f"subset_size must be in [1, {len(train_data)}], got {subset_size}")
    if len(child_seeds) != 2 or len(set(child_seeds)) != 2:
        raise ValueError(f"need two different child seeds, got {child_seeds!r}")
    check_path_alphas(alphas)
    seed_a, seed_b = child_seeds
    device = torch.device(device) if device is not None else default_device()
    folder = (lambda name: Path(out_dir) / name) if out_dir is not None else (lambda name: None)
    recorder = StateRecorder({*spawns, score_epoch})
    train(copy.deepcopy(model), train_data, replace(config, stop_at=max(*spawns, score_epoch)),
          callbacks=[recorder], out_dir=folder("parent"), device=device)
    scorer = copy.deepcopy(model).to(device)
    scorer.load_state_dict(recorder.states[score_epoch])
    subsets = score_subsets(el2n(scorer, train_data, device=device), subset_size, seed=subset_seed)
    eval_sets = {name: train_data.subset(pos) for name, pos in subsets.items()}
    eval_sets |= {"test": test_data} if test_data is not None else {}
    rows: dict[str, list[np.ndarray]] = {name: [] for name in eval_sets}
    for t in tqdm(spawns, desc="spawn", disable=not progress, leave=False):
        child_a, child_b = (train_child(model, recorder.states[t], train_data, config, start_epoch=t, seed=s,
                                        out_dir=folder(f"child-e{t}-s{s}"), device=device) for s in (seed_a, seed_b))
        errors = interpolation_errors(model, child_a, child_b, eval_sets, bn_data=train_data if recompute_bn else None,
                                      alphas=alphas, bn_examples=bn_examples, seed=subset_seed, device=device)
        for name, e in errors.items():
            rows[name].append(e)
    return SpawnBarriers(spawns, tuple(float(a) for a in alphas), {k: np.stack(v) for k, v in rows.items()},
                         subsets, score_epoch, (seed_a, seed_b))


def seeded_spawn_barriers(
    model: nn.Module, train_data: IndexedDataset, config: TrainConfig, spawn_epochs: Sequence[int], **options
) -> SpawnBarriers:
    """:func:`spawn_barriers` with every seed drawn from the parent's ``config.seed`` s: the children train with
    seeds ``2 s + 1`` and ``2 s + 2`` (distinct across parents s = 0, 1, ...), the random subset and the
    BatchNorm examples are drawn by s. ``options``: the other keywords of :func:`spawn_barriers`."""
    seed = config.seed
    return spawn_barriers(model, train_data, config, spawn_epochs, child_seeds=(2 * seed + 1, 2 * seed + 2),
                          subset_seed=seed, **options)


def plot_error_barriers(
    spawn_epochs: ArrayLike, barriers: Mapping[str, ArrayLike], path: str | os.PathLike, *, title: str | None = None
) -> Path:
    """Barrier (paper 1, eq. 5) against spawn epoch, one line per set; returns the written path.

    Each value is ``(S,)`` or ``(R, S)`` for R independent repetitions: then the mean line and a 16th-84th
    percentile band.
    """
    figure, ax = new_figure(5.5, 4.0)
    for name, values in barriers.items():
        try:
            band_line(ax, spawn_epochs, values, marker="o", label=name)
        except ValueError as error:
            raise ValueError(f"{name!r}: barriers {error}") from None
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("spawn epoch")
    ax.set_ylabel("error barrier")
    ax.set_title(title or "linear mode connectivity error barrier")
    ax.legend()
    return save_figure(figure, path)
