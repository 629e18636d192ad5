"""Selection counts of dynamic runs: kept in each run's folder, pooled over seeds, split into always / sometimes /
never.

A dynamic run writes ``selection_counts.npy`` (int64 ``(N,)``, position order: how many of its checkpoints
selected each example) and ``selection_counts.json`` (``num_checkpoints``, the upper bound), both atomically,
when it finishes. Counts of several seeds are summed (:func:`~datadiet.dynamic.pool_counts`) and fitted with the
mixture of one to three truncated normals on the integer counts (:func:`~datadiet.dynamic.fit_selection_mixture`:
the number of groups is chosen from the data; a group the fit does not have is empty).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datadiet.dynamic import DynamicPruner, SelectionMixture, fit_selection_mixture, pool_counts
from datadiet.experiments.layout import COUNTS_FILE, COUNTS_RECORD
from datadiet.files import atomic_write_npy, write_json

__all__ = ["PooledCounts", "load_counts", "pooled_counts", "save_counts"]


def save_counts(run_dir: Path, pruner: DynamicPruner) -> dict:
    """Write the pruner's counts into ``run_dir``; returns ``{"num_checkpoints": ...}`` for the run's metrics."""
    counts = pruner.counts.numpy().astype(np.int64)
    atomic_write_npy(run_dir / COUNTS_FILE, counts)
    record = {"num_checkpoints": int(pruner.num_checkpoints), "num_examples": int(len(counts))}
    write_json(run_dir / COUNTS_RECORD, record)
    return {"num_checkpoints": record["num_checkpoints"]}



def load_counts(run_dir: Path) -> tuple[np.ndarray, int]:
    """Counts ``(N,)`` and the number of checkpoints of the finished dynamic run in ``run_dir``."""
    path = run_dir / COUNTS_RECORD
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} holds no selection counts (not a finished dynamic run)")
    record = json.loads(path.read_text())
    return np.load(run_dir / COUNTS_FILE, allow_pickle=False), int(record["num_checkpoints"])


@dataclass(frozen=True)
class PooledCounts:
    """Counts summed over runs ``(N,)``, their upper bound (checkpoints x runs) and the fitted mixture."""

    counts: np.ndarray
    upper: int
    fit: SelectionMixture

    def groups(self) -> dict[str, np.ndarray]:
        """Positions of the "never", "sometimes" and "always" examples (each key present; empty where no group)."""
        return self.fit.groups(self.counts)


def pooled_counts(run_dirs: Sequence[Path], *, restarts: int = 8) -> PooledCounts:
    """Pool the counts of the runs in ``run_dirs`` and fit the mixture (``restarts`` starts, seed 0)."""
    loaded = [load_counts(d) for d in run_dirs]
    counts, upper = pool_counts([c for c, _ in loaded], [n for _, n in loaded])
    return PooledCounts(counts, upper, fit_selection_mixture(counts, upper, restarts=restarts))
