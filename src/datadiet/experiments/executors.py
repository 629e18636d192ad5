"""Where the tasks of a sweep run: in this process, in a local process pool, or on a Ray cluster.

An executor takes tasks with ``submit(task) -> id`` and hands back finished ones with ``next_done() -> (id,
metrics or exception)``, in the order they finish. Workers of the process pool use ``cpu_count // jobs`` torch
threads each and exit when the sweep's process dies. Ray tasks (:mod:`~datadiet.experiments.ray_executor`) ask
for the CPUs and GPUs given per run; they must see the experiment folder (a shared file system on a
multi-machine cluster). Any executor can run each training run as several local processes
(:mod:`~datadiet.experiments.multiprocess`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import torch
from threadpoolctl import threadpool_limits

from datadiet.experiments.multiprocess import in_processes, perform_in_processes
from datadiet.experiments.tasks import perform

__all__ = ["EXECUTORS", "PoolExecutor", "SequentialExecutor", "make_executor", "perform_with"]

EXECUTORS = ("local", "ray")
Outcome = tuple[int, Any]


def perform_with(task: Any, processes: int = 1) -> dict:
    """Do ``task``: a training run as ``processes`` processes, anything else (scores, analyses) in this one."""
    return perform_in_processes(task, processes) if in_processes(task, processes) else perform(task)


class SequentialExecutor:
    """Runs each task in this process when its result is asked for, first submitted first; a training run as
    ``processes`` processes."""

    def __init__(self, processes: int = 1) -> None:
        self._queue: deque = deque()
        self._count = 0
        self._processes = processes

    def submit(self, task: Any) -> int:
        self._count += 1
        self._queue.append((self._count, task))
        return self._count

    def next_done(self) -> Outcome:
        ident, task = self._queue.popleft()
        try:
            return ident, perform_with(task, self._processes)
        except Exception as error:  # a failed run must not stop the sweep: the caller records it
            return ident, error

    def close(self) -> None:
        self._queue.clear()


class PoolExecutor:
    """A pool of ``jobs`` worker processes (spawned, so CUDA and torch's threads start clean); each training run
    as ``processes`` processes."""

    def __init__(self, jobs: int, processes: int = 1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        threads = max(1, (os.cpu_count() or 1) // jobs)
        self._pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(threads, os.getpid()))
        self._futures: dict[int, Any] = {}
        self._count = 0
        self._processes = processes

    def submit(self, task: Any) -> int:
        self._count += 1
        self._futures[self._count] = self._pool.submit(perform_with, task, self._processes)
        return self._count

    def next_done(self) -> Outcome:
        done, _ = wait(self._futures.values(), return_when=FIRST_COMPLETED)
        ident = next(i for i, f in self._futures.items() if f in done)
        future = self._futures.pop(ident)
        return ident, future.exception() or future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(threads: int, parent: int) -> None:
    """Set the worker's torch and BLAS / OpenMP threads (numpy's too: without it each worker's numpy would use
    every core) and make it exit if the sweep's process is killed."""
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def make_executor(
    kind: str = "local", *, jobs: int | None = None, address: str | None = None, processes: int = 1,
    cpus: float | None = None, gpus: float | None = None, max_retries: int | None = None,
):
    """``"local"`` (sequential for one job, else a process pool of ``jobs``) or ``"ray"``
    (:class:`~datadiet.experiments.ray_executor.RayExecutor`: ``jobs`` concurrent tasks, None for no limit, of
    ``cpus`` (default 1) and ``gpus`` each, ``max_retries`` (default 3) on lost workers, at ``address``). Each training
    run is ``processes`` local processes (torchrun; :mod:`~datadiet.experiments.multiprocess`)."""
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r}; valid: {', '.join(EXECUTORS)}")
    if processes < 1:
        raise ValueError(f"processes per run must be at least 1, got {processes}")
    if kind == "ray":
        from datadiet.experiments.ray_executor import RayExecutor

        return RayExecutor(address, jobs=jobs, cpus=1 if cpus is None else cpus, gpus=gpus, processes=processes,
                           max_retries=3 if max_retries is None else max_retries)
    ray_only = (("address", address), ("cpus", cpus), ("gpus", gpus), ("max_retries", max_retries))
    given = [name for name, value in ray_only if value is not None]
    if given:
        raise ValueError(f"{', '.join(given)} apply to the ray executor only (executor 'ray')")
    jobs = 1 if jobs is None else jobs
    return SequentialExecutor(processes) if jobs == 1 else PoolExecutor(jobs, processes)
