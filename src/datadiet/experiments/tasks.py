"""The units of work of a sweep, runnable in any process: one part of a set of scores, and one run.

A run's files go into ``runs/<run id>/`` of the experiment folder (see :mod:`datadiet.experiments.layout`). A
training run started again in the same folder resumes from its last finished epoch; an analysis run resumes its
training and repeats the measurement.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from datadiet.data import Splits
from datadiet.data.dataset import IndexedDataset
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import save_counts
from datadiet.experiments.kinds import Plan, PlanContext
from datadiet.experiments.layout import CACHE_DIR, RUNS_DIR, TRAINING_DIR
from datadiet.experiments.scoring import ScoreCache, ScoreNeed, compute_part
from datadiet.training import TrainConfig, default_device, train

__all__ = ["RunTask", "ScoreTask", "execute_analysis", "execute_run", "perform"]


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
    performs its analysis instead (:func:`execute_analysis`).

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
    plan = run.method.params.plan(run, splits, context)
    model = run.model.build(splits.train, run.seed)
    config = run.trainer_config(len(splits.train))
    result = train(model, splits.train, config, test_data=splits.test, subset=plan.subset,
                   callbacks=plan.callbacks, out_dir=run_dir, device=device)
    if plan.pruner is not None:
        plan.notes.update(save_counts(run_dir, plan.pruner))
    device_used = str(next(model.parameters()).device)
    return _metrics(result.metrics, plan, splits.train, config, device_used, time.perf_counter() - start)


def execute_analysis(run: RunConfig, splits: Splits, context: PlanContext) -> dict:
    """Perform the analysis of ``run`` (an analysis kind: velocity, barrier), which writes its JSON, and return
    its metrics with ``analysis_seconds``, ``total_seconds`` (``scoring_seconds`` of the cached scores used
    included), ``num_train``, ``label_fingerprint``, ``trainer_config`` and ``device``. Its training
    checkpoints (``training/``) are removed once the JSON is written."""
    start = time.perf_counter()
    metrics = run.method.params.analyse(run, splits, context)
    shutil.rmtree(context.run_dir / TRAINING_DIR, ignore_errors=True)
    seconds = time.perf_counter() - start
    config = run.schedule()
    return {
        **metrics, "analysis_seconds": seconds, "total_seconds": seconds + metrics.get("scoring_seconds", 0.0),
        "num_train": len(splits.train), "label_fingerprint": splits.train.label_fingerprint(),
        "trainer_config": config.to_dict(), "device": str(context.device or default_device()),
    }


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
