"""A training run of a sweep as N local processes: ``torchrun --standalone --nproc_per_node=N`` on one task.

:func:`perform_in_processes` writes the task next to the run's files (``runs/<run id>/task.pkl``), starts
torchrun on this module's :func:`main`, and returns rank 0's metrics, or raises the error a rank raised (its
type and message as it was). Every rank trains its shard of the run (:mod:`datadiet.training.distributed`);
rank 0 writes the files, so a run killed part-way resumes from its checkpoint like a one-process run. On Linux
torchrun is stopped (and stops its processes) when the process that started it dies.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import torch

from datadiet.experiments.layout import RUNS_DIR
from datadiet.experiments.tasks import RunTask, ScoreTask, execute_run
from datadiet.files import atomic_write

__all__ = ["in_processes", "main", "perform_in_processes"]

TASK_FILE, OUTCOME_FILE = "task.pkl", "outcome.pkl"


def in_processes(task: ScoreTask | RunTask, processes: int) -> bool:
    """Whether ``task`` runs as ``processes`` processes: training runs do, scores and analyses stay in one."""
    return processes > 1 and isinstance(task, RunTask) and not task.run.method.params.analysis


def perform_in_processes(task: RunTask, processes: int) -> dict:
    """Train ``task``'s run as ``processes`` torchrun processes on this machine and return its metrics."""
    run_dir = Path(task.out_dir) / RUNS_DIR / task.run.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    outcome = run_dir / OUTCOME_FILE
    outcome.unlink(missing_ok=True)
    atomic_write(run_dir / TASK_FILE, lambda tmp: Path(tmp).write_bytes(pickle.dumps(task)))
    threads = str(max(1, torch.get_num_threads() // processes))  # this process's share, split among the ranks
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", __name__, str(run_dir / TASK_FILE), str(outcome)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": threads},
                          preexec_fn=_stop_with_parent if sys.platform == "linux" else None)
    (run_dir / TASK_FILE).unlink(missing_ok=True)
    if outcome.exists():
        result = pickle.loads(outcome.read_bytes())
        outcome.unlink()
        if isinstance(result, BaseException):
            raise result
        if done.returncode == 0:
            return result
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"the {processes} processes of run {task.run.run_id} exited with status {done.returncode}: "
                       f"{last}")


def _stop_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (torchrun then stops its processes)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main(task_file: str, outcome_file: str) -> int:
    """One rank: join torchrun's process group, train the run; rank 0 writes the metrics, a failing rank its
    error, to ``outcome_file``."""
    from datadiet.training.distributed import init_from_env, is_main_process

    task: RunTask = pickle.loads(Path(task_file).read_bytes())
    try:
        device = init_from_env(task.device)
        result = execute_run(task.run, task.out_dir, device)
    except Exception as error:
        _write(outcome_file, error)
        raise
    if is_main_process():
        _write(outcome_file, result)
    return 0


def _write(path: str, value: object) -> None:
    try:
        data = pickle.dumps(value)
    except Exception:  # an error that does not pickle travels as its message
        data = pickle.dumps(RuntimeError(f"{type(value).__name__}: {value}"))
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
