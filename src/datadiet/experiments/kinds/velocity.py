"""``velocity`` (paper 1, Fig. 3): kernel velocity against score rank, an analysis of training dynamics.

The run's network trains for the first ``track_epochs`` epochs of its schedule (seed = the run's seed, data =
the run's data, label noise included, so a grid over ``data.label_noise`` gives the figure's panels); the
logit-kernel velocity between consecutive epochs is measured on windows of ``window`` score-consecutive examples,
at ``num_ranks`` evenly spaced starting ranks or at the explicit ``ranks``. The scores (``score`` after
``score_epoch`` epochs, averaged over ``score_runs`` runs from seed ``score_seed``) are cached static scores
shared by every seed; the tracked run must not be one of them. It takes no ``keep``.

The run writes ``velocity.json`` into its folder (:meth:`~datadiet.analysis.TrackedVelocity.to_dict` plus the
run's label noise, dataset and scores), calling the function ``datadiet dynamics velocity`` calls
(:func:`~datadiet.analysis.tracked_velocity`). Metrics: ``velocity_bottom_decile_e<e>`` /
``velocity_top_decile_e<e>`` (mean velocity between epochs e and e + 1 of the windows in the lowest / highest
tenth of the measured starting ranks), ``velocity_mean_e<e>`` and ``scoring_seconds`` (the cached scores used).
"""

from __future__ import annotations

from dataclasses import dataclass

from datadiet.analysis import tracked_velocity
from datadiet.data import Splits
from datadiet.experiments.config import RunConfig
from datadiet.experiments.kinds.base import AnalysisParams, PlanContext, positive, run_scores
from datadiet.experiments.kinds.static import StaticParams
from datadiet.experiments.layout import TRAINING_DIR, VELOCITY_FILE
from datadiet.files import write_json

__all__ = ["VelocityParams"]


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
        positive(track_epochs=self.track_epochs, num_ranks=self.num_ranks, window=self.window,
                 chunk_examples=self.chunk_examples, chunk_params=self.chunk_params)
        if self.ranks and self.num_ranks is not None:
            raise ValueError("give either ranks (explicit starting ranks) or num_ranks (evenly spaced), not both")
        if any(r < 0 for r in self.ranks):
            raise ValueError(f"ranks must be starting ranks >= 0, got {list(self.ranks)}")
        if not self.ranks and self.num_ranks is None:
            object.__setattr__(self, "num_ranks", 10)

    def static_scores(self) -> StaticParams:
        return StaticParams(self.score, at=self.score_epoch, runs=self.score_runs, score_seed=self.score_seed)

    def check(self, run: RunConfig) -> None:
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

    def tracked(self, run: RunConfig) -> int:
        """The epochs tracked: ``track_epochs``, or the whole schedule."""
        return run.epochs if self.track_epochs is None else self.track_epochs

    def estimated_epochs(self, run: RunConfig) -> float:
        return float(self.tracked(run))

    def analyse(self, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
        train = splits.train
        scores, plan = run_scores(run, splits, context)
        result = tracked_velocity(
            run.model.build(train, run.seed), train, run.schedule(), scores.mean, track_epochs=self.tracked(run),
            ranks=self.ranks or None, num_ranks=self.num_ranks or 10, window=self.window,
            chunk_examples=self.chunk_examples, chunk_params=self.chunk_params, device=context.device,
            progress=False, out_dir=context.run_dir / TRAINING_DIR)
        write_json(context.run_dir / VELOCITY_FILE, {
            "analysis": "kernel velocity", "seed": run.seed, "label_noise": run.data.options.label_noise,
            "dataset": train.name, "num_train": len(train), "epochs_tracked": self.tracked(run),
            "scores": scores.metadata(), **result.to_dict()})
        bottom, top = result.extremes()
        metrics = {"scoring_seconds": plan.scoring_seconds, **plan.notes}
        for e, values in enumerate(result.velocity):
            metrics |= {f"velocity_bottom_decile_e{e}": float(bottom[e]), f"velocity_top_decile_e{e}": float(top[e]),
                        f"velocity_mean_e{e}": float(values.mean())}
        return metrics
