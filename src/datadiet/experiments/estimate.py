"""A rough cost of a sweep before it runs, in full-data training epochs (``--dry-run``).

This is an **estimate**, counted without loading any data:

- training (each kind's :meth:`~datadiet.experiments.kinds.MethodParams.estimated_epochs`): one unit per epoch
  over all N examples. Under ``budget = "steps"`` every run costs ``epochs``
  (same steps as full data); under ``"epochs"`` a subset of ``keep`` costs ``keep`` per epoch, and a dynamic run
  its full-data epochs (warm-up, final phase) plus ``keep`` for each pruned epoch; under ``"samples"`` the same
  over its ``round(epochs / keep)`` epochs. InfoBatch's size depends on the losses: it is assumed to keep
  ``1 - r / 2`` of the data (half of the examples below the mean loss).
- scoring: a forward-only pass over N (EL2N, loss, margin, the dynamic pruner's scoring pass) costs
  :data:`FORWARD_PASS` of an epoch, an exact GraNd pass :data:`GRAND_PASS` (the ratios measured on this kind of
  CPU, see BENCHMARKS.md), GraNd on batch statistics (``batchnorm = "batch"``) :data:`GRAND_BATCH_STATS_PASS`; a
  set of static scores costs its runs' training to the time point plus their passes, counted once however many
  runs share it (those the figures show included), with a forward pass more for a set that keeps embeddings. A
  dynamic policy started from static scores skips the first scoring pass when it has no warm-up.
- analysis runs: the epochs they train (a velocity run its tracked epochs and those of its independent scoring
  runs, if any; a barrier run its parent and children).
- not counted: test-set evaluation, data loading, process start-up, the time a static selection rule takes to
  choose (k-center, facility location, ...: measured and charged to its run), and the analyses' own passes (the
  logit kernels of velocity runs, the networks evaluated along each interpolation path of barrier runs).

With ``[experiment] epoch_seconds`` (seconds per full-data epoch on the intended machine) the estimate is also
given in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datadiet.experiments.config import RunConfig
from datadiet.experiments.scoring import ScoreNeed, score_need
from datadiet.scores import get_score

if TYPE_CHECKING:
    from datadiet.experiments.recipe import Experiment

__all__ = ["FORWARD_PASS", "GRAND_BATCH_STATS_PASS", "GRAND_PASS", "Estimate", "estimate", "format_plan",
           "run_epochs", "score_epochs"]

FORWARD_PASS = 0.35
GRAND_PASS = 1.4
GRAND_BATCH_STATS_PASS = 44 * GRAND_PASS
"""One backward pass of a 128-example batch per example: 44x an exact GraNd pass, measured side by side on 512
Fashion-MNIST images with the half-width small_cnn on this CPU."""


def _pass_cost(score: str, options: dict) -> float:
    if score == "grand":
        return GRAND_BATCH_STATS_PASS if options.get("batchnorm") == "batch" else GRAND_PASS
    return FORWARD_PASS if get_score(score).kind == "model" else 0.0


def score_epochs(need: ScoreNeed) -> float:
    """Estimated full-data epochs to compute a set of scores (with its embedding pass, if any)."""
    if get_score(need.score).kind == "data":
        return 0.0
    return need.runs * (need.at + _pass_cost(need.score, dict(need.options))) + (FORWARD_PASS if need.embed else 0.0)


def run_epochs(run: RunConfig) -> float:
    """Estimated full-data epochs of training (and in-run scoring passes) of one run (its kind's estimate, see
    :meth:`~datadiet.experiments.kinds.MethodParams.estimated_epochs`)."""
    return run.method.params.estimated_epochs(run)


@dataclass(frozen=True)
class Estimate:
    """Estimated epochs per run id and per score key (shared scores once)."""

    runs: dict[str, float]
    scores: dict[str, tuple[str, float]]

    def total(self, skip_runs: AbstractSet[str] = frozenset(), skip_scores: AbstractSet[str] = frozenset()) -> float:
        """Epochs of everything not in the skip sets (finished runs, cached scores)."""
        return (sum(v for k, v in self.runs.items() if k not in skip_runs)
                + sum(v for k, (_, v) in self.scores.items() if k not in skip_scores))


def estimate(runs: Sequence[RunConfig], needs: Iterable[ScoreNeed] = ()) -> Estimate:
    """The estimate of every run and of every distinct set of static scores (the runs' and ``needs``).

    Sets that share one-run parts (the same score, time and seeds) are charged for each part once, by the
    first set that uses it.
    """
    by_key = {need.key: need for need in [*map(score_need, runs), *needs] if need is not None}
    counted: set[str] = set()
    scores = {}
    for key, need in by_key.items():
        parts = [p for p in need.parts() if p.key not in counted]
        counted.update(p.key for p in parts)
        scores[key] = (need.label, sum(score_epochs(p) for p in parts))
    return Estimate({r.run_id: run_epochs(r) for r in runs}, scores)


def format_plan(experiment: Experiment, finished: set[str], cached: set[str]) -> str:
    """A table of the runs (status, method, keep, seed, budget, estimated epochs), the score sets and the total."""
    est = estimate(experiment.runs, experiment.figure_needs())
    rows = [[r.run_id, "done" if r.run_id in finished else "todo", r.method.label, r.method.kind,
             "-" if r.keep is None else f"{r.keep:g}", str(r.seed), r.budget, str(r.train_epochs),
             f"{est.runs[r.run_id]:.2f}"] for r in experiment.runs]
    lines = [_table(["run", "status", "method", "kind", "keep", "seed", "budget", "epochs", "est. epochs"], rows)
             if rows else "no training runs"]
    if est.scores:
        score_rows = [[key, "cached" if key in cached else "todo", label, f"{cost:.2f}"]
                      for key, (label, cost) in est.scores.items()]
        lines += ["", _table(["scores", "status", "what", "est. epochs"], score_rows)]
    todo, everything = est.total(finished, cached), est.total()
    pending = sum(r.run_id not in finished for r in experiment.runs)
    summary = (f"estimated cost: {todo:.1f} full-data epochs for {pending} pending of {len(experiment.runs)} runs "
               f"({everything:.1f} for the whole sweep)")
    if experiment.epoch_seconds:
        summary += (f"; at {experiment.epoch_seconds:g} s per epoch about {todo * experiment.epoch_seconds / 60:.0f} "
                    f"min ({everything * experiment.epoch_seconds / 60:.0f} min in all)")
    lines += ["", summary, "A rough estimate: it counts training and scoring passes, not evaluation or start-up "
              "(see datadiet.experiments.estimate)."]
    return "\n".join(lines)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
    return "\n".join(line.rstrip() for line in lines)
