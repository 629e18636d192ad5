"""Runs of the analysis kinds (see :mod:`datadiet.experiments.analysis_params`): the analysis, its JSON, its metrics.

A ``velocity`` run writes ``velocity.json`` into its run folder (:meth:`~datadiet.analysis.TrackedVelocity.to_dict`
plus the run's label noise, dataset and scores), a ``barrier`` run ``barrier.json``
(:meth:`~datadiet.analysis.SpawnBarriers.to_dict` plus the seed and BatchNorm handling), each atomically. Both
call the library's functions that ``datadiet dynamics`` calls (:func:`~datadiet.analysis.tracked_velocity`,
:func:`~datadiet.analysis.seeded_spawn_barriers`). Their training keeps checkpoints in ``training/`` of the run folder:
stopped, a run resumes its training and repeats only the measurement; ``training/`` is removed once the JSON is
written.

Metrics (the result store's row): ``velocity_bottom_decile_e<e>`` / ``velocity_top_decile_e<e>`` (mean velocity
between epochs e and e + 1 of the windows in the lowest / highest tenth of the measured starting ranks) and
``velocity_mean_e<e>``; ``barrier_<set>_spawn<t>`` for the sets highest, lowest, random and test; and
``analysis_seconds``, ``scoring_seconds`` (the cached scores used, as static methods are charged),
``total_seconds``, ``num_train``, ``label_fingerprint``, ``trainer_config``, ``device``, ``wall_seconds``.
"""

from __future__ import annotations

import shutil
import time
from functools import singledispatch

from datadiet.analysis import alpha_grid, seeded_spawn_barriers, tracked_velocity
from datadiet.data import Splits
from datadiet.experiments.analysis_params import BarrierParams, VelocityParams
from datadiet.experiments.config import RunConfig
from datadiet.experiments.plans import PlanContext, run_scores
from datadiet.files import write_json
from datadiet.training import default_device

__all__ = ["BARRIER_FILE", "VELOCITY_FILE", "analyse", "execute_analysis"]

VELOCITY_FILE = "velocity.json"
BARRIER_FILE = "barrier.json"
TRAINING_DIR = "training"


def execute_analysis(run: RunConfig, splits: Splits, context: PlanContext) -> dict:
    """Perform the analysis of ``run`` (an analysis kind), write its JSON and return its metrics."""
    start = time.perf_counter()
    metrics = analyse(run.method.params, run, splits, context)
    shutil.rmtree(context.run_dir / TRAINING_DIR, ignore_errors=True)
    seconds = time.perf_counter() - start
    config = run.schedule()
    return {
        **metrics, "analysis_seconds": seconds, "total_seconds": seconds + metrics.get("scoring_seconds", 0.0),
        "num_train": len(splits.train), "label_fingerprint": splits.train.label_fingerprint(),
        "trainer_config": config.to_dict(), "device": str(context.device or default_device()),
    }


@singledispatch
def analyse(params: object, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
    """The analysis of ``run`` (``params`` is ``run.method.params``): writes its JSON, returns metrics."""
    raise ValueError(f"no analysis for method parameters of type {type(params).__name__}")


@analyse.register
def _velocity(params: VelocityParams, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
    train = splits.train
    scores, plan = run_scores(run, splits, context)
    result = tracked_velocity(
        run.model.build(train, run.seed), train, run.schedule(), scores.mean, track_epochs=params.tracked(run),
        ranks=params.ranks or None, num_ranks=params.num_ranks or 10, window=params.window,
        chunk_examples=params.chunk_examples, chunk_params=params.chunk_params, device=context.device,
        progress=False, out_dir=context.run_dir / TRAINING_DIR)
    write_json(context.run_dir / VELOCITY_FILE, {
        "analysis": "kernel velocity", "seed": run.seed, "label_noise": run.data.options.label_noise,
        "dataset": train.name, "num_train": len(train), "epochs_tracked": params.tracked(run),
        "scores": scores.metadata(), **result.to_dict()})
    bottom, top = result.extremes()
    metrics = {"scoring_seconds": plan.scoring_seconds, **plan.notes}
    for e, values in enumerate(result.velocity):
        metrics |= {f"velocity_bottom_decile_e{e}": float(bottom[e]), f"velocity_top_decile_e{e}": float(top[e]),
                    f"velocity_mean_e{e}": float(values.mean())}
    return metrics


@analyse.register
def _barrier(params: BarrierParams, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
    result = seeded_spawn_barriers(
        run.model.build(splits.train, run.seed), splits.train, run.schedule(), params.spawn_epochs,
        score_epoch=params.score_epoch, subset_size=params.subset_size, alphas=alpha_grid(params.alphas),
        recompute_bn=params.recompute_bn, bn_examples=params.bn_examples, test_data=splits.test,
        device=context.device, progress=False, out_dir=context.run_dir / TRAINING_DIR)
    write_json(context.run_dir / BARRIER_FILE, {
        "analysis": "error barrier", "seed": run.seed, "dataset": splits.train.name,
        "num_train": len(splits.train), "bn_recompute": params.recompute_bn, **result.to_dict()})
    return {f"barrier_{name}_spawn{t}": float(b) for name, values in result.barriers.items()
            for t, b in zip(result.spawn_epochs, values)}

