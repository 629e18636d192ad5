"""Executors: a process pool and Ray give the results of the sequential sweep; their failure modes are clear."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from datadiet.experiments import ResultStore, load_recipe, read_experiment, run_sweep
from datadiet.experiments.executors import make_executor
from processes import children

KEYS = ("test_accuracy", "test_loss", "samples_seen", "steps")


def results(folder: Path) -> dict:
    with ResultStore(folder / "results.sqlite") as store:
        return {r.run_id: {k: r.metrics[k] for k in KEYS} for r in store.rows()}


def test_unknown_executor_and_missing_ray(monkeypatch):
    with pytest.raises(ValueError, match="unknown executor 'slurm'; valid: local, ray"):
        make_executor("slurm")
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ValueError, match=r"pip install 'datadiet\[ray\]'"):
        make_executor("ray")


@pytest.mark.slow
def test_process_pool_gives_the_sequential_results(finished, tmp_path):
    experiment = load_recipe(read_experiment(finished)["recipe"])
    summary = run_sweep(experiment, tmp_path, jobs=2, progress=False)
    assert not summary.failed and len(summary.finished) == 14
    assert results(tmp_path) == results(finished)  # one torch thread per worker, as in the reference


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child its new parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pool_sweep(recipe: str, out: Path) -> None:
    run_sweep(load_recipe(recipe), out, jobs=2, progress=False)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_pool_workers_exit_when_the_sweep_is_killed(finished, tmp_path):
    recipe = read_experiment(finished)["recipe"]
    sweep = multiprocessing.get_context("fork").Process(target=_pool_sweep, args=(recipe, tmp_path))
    sweep.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "runs").exists() and time.monotonic() < deadline:  # workers started and training
        time.sleep(0.05)
    workers = children(sweep.pid)  # 2 workers and multiprocessing's resource tracker
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.join()
    deadline = time.monotonic() + 60
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers and not any(map(_alive, workers))
    assert run_sweep(load_recipe(recipe), tmp_path, progress=False).failed == {}
    assert results(tmp_path) == results(finished)


@pytest.mark.slow
def test_ray_executor_on_a_local_ray(finished, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        experiment = load_recipe(read_experiment(finished)["recipe"])
        summary = run_sweep(experiment, tmp_path, executor="ray", progress=False)
    finally:
        ray.shutdown()
    assert not summary.failed and len(summary.finished) == 14
    assert results(tmp_path) == results(finished)


def test_pool_workers_share_the_cores_in_blas_as_in_torch():
    """A worker started with one thread has one BLAS / OpenMP thread, numpy's included (a worker with every
    core would oversubscribe the machine with the other workers)."""
    from concurrent.futures import ProcessPoolExecutor

    from threadpoolctl import threadpool_info

    from datadiet.experiments.executors import _start_worker

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker, initargs=(1, os.getpid())) as pool:
        pools = pool.submit(threadpool_info).result(timeout=120)
    assert pools and {p["num_threads"] for p in pools} == {1}
