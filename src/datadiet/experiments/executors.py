"""Where the tasks of a sweep run: in this process, in a local process pool, or on a Ray cluster.

An executor takes tasks with ``submit(task) -> id`` and hands back finished ones with ``next_done() -> (id,
metrics or exception)``, in the order they finish. Workers of the process pool use ``cpu_count // jobs`` torch
threads each and exit when the sweep's process dies. Ray tasks ask for one CPU, and one GPU when the cluster
has GPUs; they must see the experiment folder (a shared file system on a multi-machine cluster).
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

from datadiet.experiments.tasks import perform

__all__ = ["EXECUTORS", "PoolExecutor", "RayExecutor", "SequentialExecutor", "make_executor"]

EXECUTORS = ("local", "ray")
Outcome = tuple[int, Any]


class SequentialExecutor:
    """Runs each task in this process when its result is asked for, first submitted first."""

    def __init__(self) -> None:
        self._queue: deque = deque()
        self._count = 0

    def submit(self, task: Any) -> int:
        self._count += 1
        self._queue.append((self._count, task))
        return self._count

    def next_done(self) -> Outcome:
        ident, task = self._queue.popleft()
        try:
            return ident, perform(task)
        except Exception as error:  # a failed run must not stop the sweep: the caller records it
            return ident, error

    def close(self) -> None:
        self._queue.clear()


class PoolExecutor:
    """A pool of ``jobs`` worker processes (spawned, so CUDA and torch's threads start clean)."""

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        threads = max(1, (os.cpu_count() or 1) // jobs)
        self._pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(threads, os.getpid()))
        self._futures: dict[int, Any] = {}
        self._count = 0

    def submit(self, task: Any) -> int:
        self._count += 1
        self._futures[self._count] = self._pool.submit(perform, task)
        return self._count

    def next_done(self) -> Outcome:
        done, _ = wait(self._futures.values(), return_when=FIRST_COMPLETED)
        ident = next(i for i, f in self._futures.items() if f in done)
        future = self._futures.pop(ident)
        return ident, future.exception() or future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(threads: int, parent: int) -> None:
    """Set the worker's torch threads and make it exit if the sweep's process is killed."""
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class RayExecutor:
    """Tasks as Ray remote functions; connects to ``address`` (or reuses an initialized Ray)."""

    def __init__(self, address: str | None = None, *, num_cpus: int = 1) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError("the ray executor needs Ray: pip install 'datadiet[ray]'") from None
        self._ray = ray
        self._owner = not ray.is_initialized()
        if self._owner:
            ray.init(address=address, include_dashboard=False)
        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        self._remote = ray.remote(num_cpus=num_cpus, num_gpus=gpus)(_ray_perform)
        self._refs: dict[Any, int] = {}
        self._count = 0

    def submit(self, task: Any) -> int:
        self._count += 1
        self._refs[self._remote.remote(task)] = self._count
        return self._count

    def next_done(self) -> Outcome:
        (ref,), _ = self._ray.wait(list(self._refs), num_returns=1)
        ident = self._refs.pop(ref)
        try:
            return ident, self._ray.get(ref)
        except self._ray.exceptions.RayError as error:
            return ident, error

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref)
        if self._owner:
            self._ray.shutdown()


def _ray_perform(task: Any) -> dict:
    import ray

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    return perform(task)


def make_executor(kind: str = "local", *, jobs: int = 1, address: str | None = None):
    """``"local"`` (sequential for ``jobs == 1``, else a process pool) or ``"ray"``."""
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r}; valid: {', '.join(EXECUTORS)}")
    if kind == "ray":
        return RayExecutor(address)
    return SequentialExecutor() if jobs == 1 else PoolExecutor(jobs)
