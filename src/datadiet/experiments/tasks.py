"""The units of work of a sweep, runnable in any process: one part of a set of scores, and one training run.

Layout of an experiment folder ``OUT``: ``results.sqlite`` (finished runs), ``experiment.json`` (the expanded
recipe), ``cache/scores/<key>.npz|json`` (shared static scores; their one-run parts in ``cache/scores/runs/``),
``runs/<run id>/`` (the trainer's checkpoint while a run is unfinished, its history, the selected subset of
static methods, the selection counts of dynamic ones, the JSON of numbers of an analysis run). A training run
started again in the same folder resumes from its last finished epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from datadiet.data.dataset import IndexedDataset
from datadiet.experiments.analysis_runs import execute_analysis
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import save_counts
from datadiet.experiments.plans import Plan, PlanContext, make_plan
from datadiet.experiments.scoring import ScoreCache, ScoreNeed, compute_part
from datadiet.training import TrainConfig, train

__all__ = ["CACHE_DIR", "RUNS_DIR", "RunTask", "ScoreTask", "execute_run", "perform"]

CACHE_DIR = Path("cache") / "scores"
RUNS_DIR = Path("runs")


@dataclass(frozen=True)
class ScoreTask:
    """Compute one part of a set of scores (see :mod:`~datadiet.experiments.scoring`) into ``out_dir``'s cache."""

    part: ScoreNeed
    out_dir: str
    device: str | None = None


@dataclass(frozen=True)
class RunTask:
    """Train one run with its files in the experiment folder ``out_dir``."""

    run: RunConfig
    out_dir: str
    device: str | None = None


def perform(task: ScoreTask | RunTask) -> dict:
    """Do ``task``: a run returns its metrics, a score task ``{"seconds": ...}``."""
    if isinstance(task, ScoreTask):
        return {"seconds": compute_part(task.part, ScoreCache(Path(task.out_dir) / CACHE_DIR), task.device)}
    return execute_run(task.run, task.out_dir, task.device)


def execute_run(run: RunConfig, out_dir: str | Path, device: str | None = None) -> dict:
    """Train ``run`` (resuming it if its folder holds a checkpoint) and return its metrics; an analysis run
    (:mod:`~datadiet.experiments.analysis_runs`) performs its analysis instead.

    Metrics: the trainer's (test_accuracy, train_seconds, ...) with ``scoring_seconds`` and ``total_seconds``
    including the static scoring charged to the run, plus ``samples_seen``, ``num_train``, the trainer's
    configuration, ``num_checkpoints`` of dynamic runs and the wall-clock of the whole call (``wall_seconds``).
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    splits = run.data.load()
    run_dir = out_dir / RUNS_DIR / run.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    context = PlanContext(run_dir, ScoreCache(out_dir / CACHE_DIR), device)
    if run.method.params.analysis:
        return {**execute_analysis(run, splits, context), "wall_seconds": time.perf_counter() - start}
    plan = make_plan(run.method.params, run, splits, context)
    model = run.model.build(splits.train, run.seed)
    config = run.trainer_config(len(splits.train))
    result = train(model, splits.train, config, test_data=splits.test, subset=plan.subset,
                   callbacks=plan.callbacks, out_dir=run_dir, device=device)
    if plan.pruner is not None:
        plan.notes.update(save_counts(run_dir, plan.pruner))
    device_used = str(next(model.parameters()).device)
    return _metrics(result.metrics, plan, splits.train, config, device_used, time.perf_counter() - start)


def _metrics(trained: dict, plan: Plan, data: IndexedDataset, config: TrainConfig, device: str, wall: float) -> dict:
    scoring = trained["scoring_seconds"] + plan.scoring_seconds
    return {
        **trained, **plan.notes,
        "scoring_seconds": scoring, "total_seconds": trained["train_seconds"] + scoring,
        "static_scoring_seconds": plan.scoring_seconds, "static_scoring_samples": plan.scoring_samples,
        "samples_seen": trained["samples_backward"], "num_train": len(data),
        "label_fingerprint": data.label_fingerprint(), "trainer_config": config.to_dict(), "device": device,
        "wall_seconds": wall,
    }
