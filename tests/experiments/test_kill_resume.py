"""A sweep killed with SIGKILL at random moments and started again: nothing lost, nothing done twice, no torn file.

The sweep runs in a forked subprocess that is killed a few times at random points (scoring, training, recording,
starting); each time the folder is checked: the database is intact, every row and every score set recorded
before is unchanged, and every file in place reads back whole. A last sweep finishes the work, and every run's
result equals that of the uninterrupted sweep of the same recipe (runs resume exactly from their checkpoints).
"""

from __future__ import annotations

import json
import os
import multiprocessing
import random
import signal
import sqlite3
import time
from pathlib import Path

import numpy as np
import torch

from datadiet.experiments import ResultStore, load_recipe, run_sweep
from datadiet.scores import ScoreFile

def _sweep(recipe: Path, out: Path) -> None:
    run_sweep(load_recipe(recipe), out, progress=False)


def sweep_and_kill(recipe: Path, out: Path, delay: float) -> None:
    """Sweep in a forked child process (torch already imported: no start-up time) and SIGKILL it after ``delay``."""
    process = multiprocessing.get_context("fork").Process(target=_sweep, args=(recipe, out))
    process.start()
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    process.join(60)


def snapshot(out: Path) -> tuple[dict, dict]:
    """Rows by run id and score records by key, after checking that everything in the folder reads back whole."""
    if (out / "results.sqlite").exists():
        assert sqlite3.connect(out / "results.sqlite").execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {}
    if (out / "results.sqlite").exists():
        with ResultStore(out / "results.sqlite") as store:
            rows = {r.run_id: (r.finished, r.metrics) for r in store.rows()}
    records = {}
    for path in out.rglob("*"):
        if path.name.startswith(".") or path.is_dir():
            continue  # the lock file and temporary files of the killed writer (never read; removed at restart)
        if path.suffix == ".json":
            value = json.loads(path.read_text())
            if path.is_relative_to(out / "cache"):  # score sets and their one-run parts
                ScoreFile.load(path.with_suffix(".npz"))  # a record exists only after its scores
                records[value["key"]] = value
        elif path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".npz":
            ScoreFile.load(path)
        elif path.suffix == ".pt":
            torch.load(path, weights_only=True)
    return rows, records


def test_killed_sweeps_resume_without_loss_or_repetition(tmp_path, write_recipe, tiny_text):
    longer = tiny_text.replace("epochs = 2", "epochs = 6").replace("per_class = 20", "per_class = 40")
    recipe, out = write_recipe(tmp_path, longer), tmp_path / "out"
    reference = run_sweep(load_recipe(recipe), tmp_path / "reference", progress=False)  # also warms up torch
    assert len(reference.finished) == 14
    rng = random.Random()
    delays = [rng.uniform(0.05, 0.8) for _ in range(4)]
    seen_rows, seen_records = {}, {}
    for delay in delays:
        sweep_and_kill(recipe, out, delay)
        rows, records = snapshot(out)
        assert {k: rows[k] for k in seen_rows} == seen_rows, f"a recorded row changed (kills at {delays})"
        assert {k: records[k] for k in seen_records} == seen_records, f"scores were redone ({delays})"
        seen_rows, seen_records = rows, records
    summary = run_sweep(load_recipe(recipe), out, progress=False)
    assert summary.skipped == len(seen_rows) and not summary.failed
    rows, records = snapshot(out)
    assert {k: rows[k] for k in seen_rows} == seen_rows and len(rows) == 14 and len(records) == 1 + 2  # set + parts
    assert not [p for p in out.rglob(".*.tmp")] and not [p for p in out.rglob("checkpoint.pt")]
    with ResultStore(tmp_path / "reference" / "results.sqlite") as store:
        expected = {r.run_id: r.metrics for r in store.rows()}
    for run_id, (_, metrics) in rows.items():
        for key in ("test_accuracy", "test_loss", "train_loss", "samples_seen", "steps"):
            assert metrics[key] == expected[run_id][key], (run_id, key, delays)
