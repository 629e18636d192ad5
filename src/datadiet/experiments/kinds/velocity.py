"""``velocity`` (paper 1, Fig. 3): kernel velocity against score rank, an analysis of training dynamics.

The run's network trains for the first ``track_epochs`` epochs of its schedule (seed = the run's seed, data =
the run's data, label noise included, so a grid over ``data.label_noise`` gives the figure's panels); the
logit-kernel velocity between epochs t and t + 1 is measured on windows of ``window`` score-consecutive examples,
at ``num_ranks`` evenly spaced starting ranks or at the explicit ``ranks``, the examples ranked by ``score``
(default EL2N) **at epoch t** (Fig. 3's caption: scores and velocities are computed at the same epoch). Whose
score: ``scores_from = "tracked"`` (default), the tracked network's own after t epochs; ``"independent"``, the
mean over ``score_runs`` independent runs (seeds ``score_seed ..``, none of them the tracked run's) stopped at
epoch t, trained by the run itself (``score_runs x (track_epochs - 1)`` more epochs, not shared between runs). It
takes no ``keep``.

The run writes ``velocity.json`` into its folder (:meth:`~datadiet.analysis.TrackedVelocity.to_dict`, each
epoch's windows included, plus the run's label noise, dataset and ranking), calling the functions ``datadiet
dynamics velocity`` calls (:func:`~datadiet.analysis.tracked_velocity`,
:func:`~datadiet.analysis.independent_epoch_scores`). Metrics: ``velocity_bottom_decile_e<e>`` /
``velocity_top_decile_e<e>`` (mean velocity between epochs e and e + 1 of the windows in the lowest / highest
tenth of the measured starting ranks) and ``velocity_mean_e<e>``; the scoring is part of ``analysis_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass

from datadiet.analysis.velocity import independent_epoch_scores, network_score, tracked_velocity
from datadiet.data import Splits
from datadiet.experiments.config import RunConfig
from datadiet.experiments.kinds.base import AnalysisParams, PlanContext, at_least, positive
from datadiet.experiments.layout import TRAINING_DIR, VELOCITY_FILE
from datadiet.files import write_json

__all__ = ["SCORE_SOURCES", "VelocityParams"]

SCORE_SOURCES = ("tracked", "independent")
"""Whose score ranks the windows at epoch t: the tracked network's, or the mean of independent runs'."""


@dataclass(frozen=True)
class VelocityParams(AnalysisParams):
    """Kernel velocity against score rank at the same epoch, one row per tracked epoch (Fig. 3)."""

    score: str = "el2n"
    scores_from: str = "tracked"
    score_runs: int | None = None
    score_seed: int | None = None
    track_epochs: int | None = None
    num_ranks: int | None = None
    ranks: tuple[int, ...] = ()
    window: int = 100
    chunk_examples: int = 10
    chunk_params: int | None = None

    def __post_init__(self) -> None:
        network_score(self.score)
        if self.scores_from not in SCORE_SOURCES:
            raise ValueError(f"scores_from must be one of {', '.join(SCORE_SOURCES)}, got {self.scores_from!r}")
        if self.scores_from == "tracked" and (self.score_runs is not None or self.score_seed is not None):
            raise ValueError('score_runs and score_seed are for scores_from = "independent"; the tracked run '
                             "scores itself")
        positive(track_epochs=self.track_epochs, num_ranks=self.num_ranks, window=self.window,
                 chunk_examples=self.chunk_examples, chunk_params=self.chunk_params, score_runs=self.score_runs)
        if self.score_seed is not None:
            at_least("score_seed", self.score_seed, 0)
        if self.ranks and self.num_ranks is not None:
            raise ValueError("give either ranks (explicit starting ranks) or num_ranks (evenly spaced), not both")
        if any(r < 0 for r in self.ranks):
            raise ValueError(f"ranks must be starting ranks >= 0, got {list(self.ranks)}")
        if not self.ranks and self.num_ranks is None:
            object.__setattr__(self, "num_ranks", 10)
        if self.scores_from == "independent":
            object.__setattr__(self, "score_runs", self.score_runs or 1)
            object.__setattr__(self, "score_seed", 1 if self.score_seed is None else self.score_seed)

    def score_seeds(self) -> range:
        """Seeds of the independent scoring runs (empty when the tracked run scores itself)."""
        if self.score_runs is None or self.score_seed is None:
            return range(0)
        return range(self.score_seed, self.score_seed + self.score_runs)

    def check(self, run: RunConfig) -> None:
        """Tracking within the schedule; independent scoring runs independent of the tracked one."""
        if self.track_epochs is not None and self.track_epochs > run.epochs:
            raise ValueError(f"track_epochs = {self.track_epochs} is past the end of the {run.epochs}-epoch schedule")
        seeds = self.score_seeds()
        if run.seed in seeds:
            raise ValueError(f"the tracked run's seed {run.seed} is one of the scoring runs' seeds "
                             f"{seeds.start}..{seeds.stop - 1}: set score_seed so that the scores come from "
                             "independent runs")

    def tracked(self, run: RunConfig) -> int:
        """The epochs tracked: ``track_epochs``, or the whole schedule."""
        return run.epochs if self.track_epochs is None else self.track_epochs

    def estimated_epochs(self, run: RunConfig) -> float:
        """The tracked epochs, plus the independent scoring runs' ``track_epochs - 1`` epochs each."""
        return float(self.tracked(run) + len(self.score_seeds()) * (self.tracked(run) - 1))

    def analyse(self, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
        train, track = splits.train, self.tracked(run)
        seeds = self.score_seeds()
        ranking = None
        if seeds:
            ranking = independent_epoch_scores(
                lambda seed: run.model.build(train, seed), train, run.schedule(), seeds, epochs=track,
                score=self.score, device=context.device, progress=False,
                out_dir=context.run_dir / TRAINING_DIR / "scoring").mean(0)
        result = tracked_velocity(
            run.model.build(train, run.seed), train, run.schedule(), score=self.score, ranking_scores=ranking,
            track_epochs=track, ranks=self.ranks or None, num_ranks=self.num_ranks or 10, window=self.window,
            chunk_examples=self.chunk_examples, chunk_params=self.chunk_params, device=context.device,
            progress=False, out_dir=context.run_dir / TRAINING_DIR / "tracked")
        write_json(context.run_dir / VELOCITY_FILE, {
            "analysis": "kernel velocity", "seed": run.seed, "label_noise": run.data.options.label_noise,
            "dataset": train.name, "num_train": len(train), "epochs_tracked": track,
            "ranking": {"score": self.score, "scores_from": self.scores_from, "seeds": list(seeds) or [run.seed],
                        "at": "each curve's first epoch"},
            **result.to_dict()})
        bottom, top = result.extremes()
        metrics: dict[str, float] = {}
        for e, values in enumerate(result.velocity):
            metrics |= {f"velocity_bottom_decile_e{e}": float(bottom[e]), f"velocity_top_decile_e{e}": float(top[e]),
                        f"velocity_mean_e{e}": float(values.mean())}
        return metrics
