"""The parameters of the analysis kinds: runs that measure training dynamics instead of training on a subset.

- ``velocity`` (paper 1, Fig. 3): train the run's network for the first ``track_epochs`` epochs of its schedule
  (seed = the run's seed, data = the run's data, label noise included, so a grid over ``data.label_noise`` gives
  the figure's panels) and measure the logit-kernel velocity between consecutive epochs of windows of ``window``
  score-consecutive examples, at ``num_ranks`` evenly spaced starting ranks or at the explicit ``ranks``. The
  scores (``score`` after ``score_epoch`` epochs, averaged over ``score_runs`` runs from seed ``score_seed``)
  are cached static scores shared by every seed; the tracked run must not be one of them.
- ``barrier`` (paper 1, Fig. 4): a parent (seed = the run's seed) spawns two children at each of
  ``spawn_epochs``; the error barrier between them along ``alphas`` interpolation points is measured on the
  ``subset_size`` highest- and lowest-EL2N training examples (EL2N of the parent after ``score_epoch`` epochs),
  as many random ones, and the test set; BatchNorm statistics are recomputed on ``bn_examples`` training
  examples (``recompute_bn = false`` keeps the interpolated ones).

Neither takes a size ``keep`` (a grid over ``keep`` gives one run), and both train on the run's full-data
schedule in epochs, whatever its budget. See :mod:`datadiet.experiments.analysis_runs` for what a run writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from datadiet.experiments.params import MethodParams, StaticParams

if TYPE_CHECKING:
    from datadiet.experiments.config import RunConfig

__all__ = ["AnalysisParams", "BarrierParams", "VelocityParams"]


def _positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")


class AnalysisParams(MethodParams):
    """An analysis kind: no size, and an estimate of the full-data epochs it trains (scores apart)."""

    uses_keep: ClassVar[bool] = False
    analysis: ClassVar[bool] = True

    def trained_epochs(self, run: "RunConfig") -> float:
        """Full-data epochs of training the run does itself (cached scores are counted separately)."""
        raise NotImplementedError


@dataclass(frozen=True)
class VelocityParams(AnalysisParams):
    """Kernel velocity against score rank, one row per tracked epoch (Fig. 3)."""

    score: str
    score_epoch: int
    score_runs: int = 1
    score_seed: int = 1
    track_epochs: int | None = None
    num_ranks: int | None = None
    ranks: tuple[int, ...] = ()
    window: int = 100
    chunk_examples: int = 10
    chunk_params: int | None = None

    def __post_init__(self) -> None:
        self.static_scores()
        _positive(track_epochs=self.track_epochs, num_ranks=self.num_ranks, window=self.window,
                  chunk_examples=self.chunk_examples, chunk_params=self.chunk_params)
        if self.ranks and self.num_ranks is not None:
            raise ValueError("give either ranks (explicit starting ranks) or num_ranks (evenly spaced), not both")
        if any(r < 0 for r in self.ranks):
            raise ValueError(f"ranks must be starting ranks >= 0, got {list(self.ranks)}")
        if not self.ranks and self.num_ranks is None:
            object.__setattr__(self, "num_ranks", 10)

    def static_scores(self) -> StaticParams:
        return StaticParams(self.score, at=self.score_epoch, runs=self.score_runs, score_seed=self.score_seed)

    def check(self, run: "RunConfig") -> None:
        """Scores and tracking within the schedule; the tracked run independent of the scoring runs."""
        if self.score_epoch > run.epochs:
            raise ValueError(f"score_epoch = {self.score_epoch} is past the end of the {run.epochs}-epoch schedule")
        if self.track_epochs is not None and self.track_epochs > run.epochs:
            raise ValueError(f"track_epochs = {self.track_epochs} is past the end of the {run.epochs}-epoch schedule")
        seeds = range(self.score_seed, self.score_seed + self.score_runs)
        if run.seed in seeds:
            raise ValueError(f"the tracked run's seed {run.seed} is one of the scoring runs' seeds "
                             f"{seeds.start}..{seeds.stop - 1}: set score_seed so that the scores come from "
                             "independent runs")

    def tracked(self, run: "RunConfig") -> int:
        """The epochs tracked: ``track_epochs``, or the whole schedule."""
        return run.epochs if self.track_epochs is None else self.track_epochs

    def trained_epochs(self, run: "RunConfig") -> float:
        return float(self.tracked(run))


@dataclass(frozen=True)
class BarrierParams(AnalysisParams):
    """Linear-mode-connectivity error barrier against spawn epoch on EL2N-chosen subsets (Fig. 4)."""

    spawn_epochs: tuple[int, ...]
    score_epoch: int = 10
    subset_size: int = 1000
    alphas: int = 11
    recompute_bn: bool = True
    bn_examples: int = 4096

    def __post_init__(self) -> None:
        if not self.spawn_epochs or min(self.spawn_epochs) < 0 or len(set(self.spawn_epochs)) < len(self.spawn_epochs):
            raise ValueError(f"spawn_epochs must be a non-empty list of distinct epochs >= 0, got "
                             f"{list(self.spawn_epochs)}")
        if self.score_epoch < 0:
            raise ValueError(f"score_epoch must be at least 0, got {self.score_epoch}")
        if self.alphas < 2:
            raise ValueError(f"alphas (points on the interpolation path) must be at least 2, got {self.alphas}")
        _positive(subset_size=self.subset_size, bn_examples=self.bn_examples)

    def check(self, run: "RunConfig") -> None:
        """Spawn epochs before the end of the schedule, the score epoch within it."""
        if max(self.spawn_epochs) >= run.epochs:
            raise ValueError(f"spawn_epochs must be below the schedule's {run.epochs} epochs (a child trains the "
                             f"rest of it), got {list(self.spawn_epochs)}")
        if self.score_epoch > run.epochs:
            raise ValueError(f"score_epoch = {self.score_epoch} is past the end of the {run.epochs}-epoch schedule")

    def trained_epochs(self, run: "RunConfig") -> float:
        """The parent to the latest spawn or score epoch, two children from each spawn epoch to the end."""
        parent = max(*self.spawn_epochs, self.score_epoch)
        return float(parent + 2 * sum(run.epochs - t for t in self.spawn_epochs))
