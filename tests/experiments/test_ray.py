"""A sweep on a local Ray instance: a failed run's real cause and run id reach the summary and the store, the
others finish; Ray's options are refused for the local executor; a run can train as two processes."""

from __future__ import annotations

import pytest

from datadiet.cli.main import main
from datadiet.experiments import ResultStore, load_recipe, run_sweep
from datadiet.experiments.executors import make_executor

GRID = """
[grid]
seed = [0]
method = ["full"]
train.lr = [0.1, 1e30]
"""
"""Two full-data runs of the tiny recipe; the one with lr = 1e30 diverges in its first epoch (found only by
training)."""


def _recipe(tiny_text: str) -> str:
    return tiny_text.split("[grid]")[0] + GRID


def test_a_failed_run_on_ray_is_reported_and_stored(tiny_text, write_recipe, tmp_path, capsys):
    ray = pytest.importorskip("ray")
    recipe = write_recipe(tmp_path, _recipe(tiny_text))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        status = main(["sweep", str(recipe), "--out", str(tmp_path / "out"), "--executor", "ray", "--jobs", "1",
                       "--ray-cpus", "1", "--no-progress"])
    finally:
        ray.shutdown()
    printed = capsys.readouterr().out
    assert status == 1
    with ResultStore(tmp_path / "out" / "results.sqlite") as store:
        finished, failures = store.rows(), store.failures()
    assert len(finished) == 1 and finished[0].config["train"]["lr"] == 0.1
    (run_id, message), = failures.items()
    assert message.startswith("TrainingDiverged: training diverged in epoch 1") and "RayTaskError" not in message
    assert f"failed {run_id}: {message}" in printed
    assert "2 runs: 0 finished before, 1 now, 1 failed" in printed


def test_ray_options_need_the_ray_executor():
    with pytest.raises(ValueError, match="cpus, gpus apply to the ray executor only"):
        make_executor("local", cpus=2, gpus=1)
    with pytest.raises(ValueError, match="processes per run must be at least 1"):
        make_executor("local", processes=0)


@pytest.mark.slow
def test_a_run_as_two_processes_matches_one(tiny_text, write_recipe, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path, tiny_text.split("[grid]")[0] + GRID.replace(", 1e30", "")))
    results = []
    for processes in (1, 2):
        out = tmp_path / f"procs{processes}"
        summary = run_sweep(recipe, out, progress=False, executor_options={"processes": processes})
        assert not summary.failed, summary.failed
        with ResultStore(out / "results.sqlite") as store:
            results.append(store.rows()[0].metrics)
    assert results[0]["steps"] == results[1]["steps"]
    assert abs(results[0]["test_accuracy"] - results[1]["test_accuracy"]) <= 0.02
