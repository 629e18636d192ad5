"""Tasks of a sweep on a Ray cluster: resources per run, a cap on concurrent runs, retries on lost workers.

Each task is a Ray task asking for ``cpus`` CPUs and ``gpus`` GPUs (default: one GPU when the cluster has GPUs,
else none); a run of ``processes`` processes gets them all (its torchrun processes share them). At most ``jobs``
tasks are in Ray at once (None: as many as the cluster takes). A task whose worker dies (a lost node, a killed
process) is retried up to ``max_retries`` times; a retried run resumes from the checkpoint in its run folder, so
the folder must be on a file system every node sees. A task that raises is not retried: its outcome is the
original exception (type and message), not Ray's wrapper, so the sweep reports and stores the real cause.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch


__all__ = ["RayExecutor"]

Outcome = tuple[int, Any]


class RayExecutor:
    """Tasks as Ray remote functions; connects to ``address`` (or reuses an initialized Ray, or starts a local
    one)."""

    def __init__(
        self, address: str | None = None, *, jobs: int | None = None, cpus: float = 1, gpus: float | None = None,
        processes: int = 1, max_retries: int = 3,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError("the ray executor needs Ray: pip install 'datadiet[ray]'") from None
        _check(jobs=jobs, cpus=cpus, gpus=gpus, max_retries=max_retries)
        self._ray = ray
        self._owner = not ray.is_initialized()
        if self._owner:
            ray.init(address=address, include_dashboard=False)
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        self._remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=max_retries)(_ray_perform)
        self._jobs, self._processes = jobs, processes
        self._queue: deque = deque()
        self._refs: dict[Any, int] = {}
        self._count = 0

    def submit(self, task: Any) -> int:
        self._count += 1
        self._queue.append((self._count, task))
        self._start()
        return self._count

    def _start(self) -> None:
        while self._queue and (self._jobs is None or len(self._refs) < self._jobs):
            ident, task = self._queue.popleft()
            self._refs[self._remote.remote(task, self._processes)] = ident

    def next_done(self) -> Outcome:
        (ref,), _ = self._ray.wait(list(self._refs), num_returns=1)
        ident = self._refs.pop(ref)
        self._start()
        try:
            return ident, self._ray.get(ref)
        except self._ray.exceptions.RayTaskError as error:
            cause = getattr(error, "cause", None)
            return ident, cause if isinstance(cause, Exception) else error
        except self._ray.exceptions.RayError as error:
            return ident, error

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref)
        self._queue.clear()
        if self._owner:
            self._ray.shutdown()


def _check(**values: float | None) -> None:
    for name, value in values.items():
        low = 1 if name == "jobs" else 0
        if value is not None and value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")


def _ray_perform(task: Any, processes: int) -> dict:
    import ray

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    from datadiet.experiments.executors import perform_with  # in the worker: Ray ships this function by value

    return perform_with(task, processes)
