"""The layout of an experiment folder (the ``--out`` of ``datadiet sweep``): every file and folder name, here.

::

    OUT/
      results.sqlite          finished runs, one row each (DATABASE, see datadiet.experiments.store)
      experiment.json         the expanded recipe (EXPERIMENT_FILE)
      .sweep.lock             held by the sweep that uses the folder (LOCK_FILE)
      cache/scores/           shared static scores, <key>.npz and <key>.json (CACHE_DIR)
        runs/                 their one-run parts (SCORE_PARTS_DIR)
      runs/<run id>/          one folder per run (RUNS_DIR):
        checkpoint.pt           the trainer's checkpoint while the run is unfinished
        subset.npy              the subset a static method selected (SUBSET_FILE)
        selection_counts.npy    a dynamic run's per-example selection counts (COUNTS_FILE, + COUNTS_RECORD)
        checkpoint_scores.npy   a loss-ranking dynamic run's scores at its latest checkpoint (CHECKPOINT_SCORES_FILE,
                                + CHECKPOINT_SCORES_RECORD)
        groups.npz              the always / sometimes / never sets an always_sometimes run used (GROUPS_FILE)
        velocity.json           a velocity run's numbers (VELOCITY_FILE)
        barrier.json            a barrier run's numbers (BARRIER_FILE)
        training/               an analysis run's training checkpoints while it runs (TRAINING_DIR)
      figures/                PNG written by datadiet plot (FIGURES_DIR)
      report.html             written by datadiet report (REPORT)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BARRIER_FILE", "CACHE_DIR", "CHECKPOINT_SCORES_FILE", "CHECKPOINT_SCORES_RECORD", "COUNTS_FILE",
    "COUNTS_RECORD", "DATABASE", "EXPERIMENT_FILE", "FIGURES_DIR", "GROUPS_FILE", "LOCK_FILE", "REPORT", "RUNS_DIR",
    "SCORE_PARTS_DIR", "SUBSET_FILE", "TRAINING_DIR", "VELOCITY_FILE",
]

DATABASE = "results.sqlite"
EXPERIMENT_FILE = "experiment.json"
LOCK_FILE = ".sweep.lock"
CACHE_DIR = Path("cache") / "scores"
SCORE_PARTS_DIR = "runs"
RUNS_DIR = Path("runs")
FIGURES_DIR = "figures"
REPORT = "report.html"

SUBSET_FILE = "subset.npy"
COUNTS_FILE = "selection_counts.npy"
COUNTS_RECORD = "selection_counts.json"
CHECKPOINT_SCORES_FILE = "checkpoint_scores.npy"
CHECKPOINT_SCORES_RECORD = "checkpoint_scores.json"
GROUPS_FILE = "groups.npz"
VELOCITY_FILE = "velocity.json"
BARRIER_FILE = "barrier.json"
TRAINING_DIR = "training"
