"""What each method's runs did, read back from a finished tiny experiment, against the library's own rules."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from datadiet.dynamic.schedule import PruningSchedule
from datadiet.experiments import ResultStore, expand, execute_run, load_recipe, read_experiment
from datadiet.experiments.config import RunConfig
from datadiet.selection import random_subset


@pytest.fixture(scope="module")
def rows(finished):
    with ResultStore(finished / "results.sqlite") as store:
        return {r.run_id: r for r in store.rows()}


def by_label(rows, label: str) -> list:
    return [r for r in rows.values() if r.config["method"]["label"] == label]


def test_every_run_is_recorded_with_its_resolved_configuration(finished, rows):
    info = read_experiment(finished)
    assert sorted(info["run_ids"]) == sorted(rows) and len(rows) == 14
    for row in rows.values():
        m = row.metrics
        assert 0 <= m["test_accuracy"] <= 1 and m["total_seconds"] == m["train_seconds"] + m["scoring_seconds"]
        assert m["num_train"] == 200 and m["trainer_config"]["epochs"] == 2 and m["device"] == "cpu"
        assert row.config["train"]["batch_size"] == 64 and row.config["data"]["per_class"] == 20


def test_random_runs_train_on_the_librarys_random_subset(finished, rows):
    for row in by_label(rows, "random"):
        keep, seed = row.config["keep"], row.config["seed"]
        expected = random_subset(200, keep, seed=seed)
        subset = np.load(finished / "runs" / row.run_id / "subset.npy")
        run = next(r for r in expand_tiny(finished) if r.run_id == row.run_id)
        np.testing.assert_array_equal(subset, run.data.load().train.index.numpy()[expected])
        assert row.metrics["samples_seen"] == 2 * len(expected)  # budget "epochs": 2 passes over the subset


def test_dynamic_runs_pay_a_scoring_pass_per_checkpoint(rows):
    for row in by_label(rows, "ucb"):
        k = math.floor(row.config["keep"] * 200 + 0.5)
        checkpoints = PruningSchedule(period=1, warmup_epochs=0, epochs=2).checkpoints()
        assert row.metrics["scoring_forward"] == len(checkpoints) * 200
        assert row.metrics["samples_seen"] == 2 * k and row.metrics["scoring_seconds"] > 0


def test_full_data_runs_are_one_per_seed(rows):
    full = by_label(rows, "full")
    assert sorted(r.config["seed"] for r in full) == [0, 1] and all(r.config["keep"] is None for r in full)
    assert all(r.metrics["samples_seen"] == 400 and r.metrics["scoring_seconds"] < 0.1 for r in full)


def test_a_run_repeated_gives_the_same_result(finished, rows, tmp_path):
    run = next(r for r in expand_tiny(finished) if r.method.label == "ucb")
    again = execute_run(run, tmp_path)
    assert again["test_accuracy"] == rows[run.run_id].metrics["test_accuracy"]
    assert again["samples_seen"] == rows[run.run_id].metrics["samples_seen"]


def expand_tiny(finished) -> tuple[RunConfig, ...]:
    return load_recipe(read_experiment(finished)["recipe"]).runs


def test_the_stored_recipe_expands_to_the_stored_configurations(finished, rows):
    again = expand(read_experiment(finished)["resolved"])
    assert {r.run_id: json.loads(json.dumps(r.to_dict())) for r in again.runs} == {k: r.config for k, r in rows.items()}
