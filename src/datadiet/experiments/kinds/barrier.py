"""``barrier`` (paper 1, Fig. 4): error barrier against spawn epoch, an analysis of training dynamics.

A parent (seed = the run's seed) spawns two children at each of ``spawn_epochs``; the error barrier between them
(paper 1, eq. 5: the most the error along the path rises above the straight line between the two children's own
errors), over ``alphas`` evenly spaced interpolation points from 0 to 1, is measured on the ``subset_size``
highest- and lowest-EL2N training examples (EL2N of the parent after ``score_epoch`` epochs), as many random ones,
and the test set; BatchNorm statistics are recomputed on ``bn_examples`` training examples (``recompute_bn =
false`` keeps the interpolated ones). It takes no ``keep`` and trains on the run's full-data schedule in epochs,
whatever its budget.

The run writes ``barrier.json`` into its folder (:meth:`~datadiet.analysis.SpawnBarriers.to_dict` plus the seed
and BatchNorm handling), calling the function ``datadiet dynamics barrier`` calls
(:func:`~datadiet.analysis.seeded_spawn_barriers`); its errors along the path and alphas are kept, so any other
reading of them can be recomputed. Metrics: ``barrier_<set>_spawn<t>`` (eq. 5) for the sets highest, lowest,
random and test.
"""

from __future__ import annotations

from dataclasses import dataclass

from datadiet.analysis import alpha_grid, seeded_spawn_barriers
from datadiet.data import Splits
from datadiet.experiments.config import RunConfig
from datadiet.experiments.kinds.base import AnalysisParams, PlanContext, positive
from datadiet.experiments.layout import BARRIER_FILE, TRAINING_DIR
from datadiet.files import write_json

__all__ = ["BarrierParams"]


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
        positive(subset_size=self.subset_size, bn_examples=self.bn_examples)

    def check(self, run: RunConfig) -> None:
        """Spawn epochs before the end of the schedule, the score epoch within it."""
        if max(self.spawn_epochs) >= run.epochs:
            raise ValueError(f"spawn_epochs must be below the schedule's {run.epochs} epochs (a child trains the "
                             f"rest of it), got {list(self.spawn_epochs)}")
        if self.score_epoch > run.epochs:
            raise ValueError(f"score_epoch = {self.score_epoch} is past the end of the {run.epochs}-epoch schedule")

    def estimated_epochs(self, run: RunConfig) -> float:
        """The parent to the latest spawn or score epoch, two children from each spawn epoch to the end."""
        parent = max(*self.spawn_epochs, self.score_epoch)
        return float(parent + 2 * sum(run.epochs - t for t in self.spawn_epochs))

    def analyse(self, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
        result = seeded_spawn_barriers(
            run.model.build(splits.train, run.seed), splits.train, run.schedule(), self.spawn_epochs,
            score_epoch=self.score_epoch, subset_size=self.subset_size, alphas=alpha_grid(self.alphas),
            recompute_bn=self.recompute_bn, bn_examples=self.bn_examples, test_data=splits.test,
            device=context.device, progress=False, out_dir=context.run_dir / TRAINING_DIR)
        write_json(context.run_dir / BARRIER_FILE, {
            "analysis": "error barrier", "seed": run.seed, "dataset": splits.train.name,
            "num_train": len(splits.train), "bn_recompute": self.recompute_bn, **result.to_dict()})
        return {f"barrier_{name}_spawn{t}": float(b) for name, values in result.barriers.items()
                for t, b in zip(result.spawn_epochs, values)}
