"""Run every run of an experiment once: skip finished ones, compute shared scores first (and those the figures
show), record each result.

Nothing is lost and nothing is done twice. A run's row is written to ``results.sqlite`` in one transaction
when it finishes; a sweep started again skips the runs that have a row, resumes unfinished runs from their last
checkpointed epoch, and reuses every complete score file. Every file is written to a temporary name and renamed
into place, so a sweep killed at any moment leaves no half-written row or file; temporary files of a killed
sweep are removed when the next one starts. One sweep at a time may use a folder (a lock file enforces it).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import datadiet
from datadiet.data.registry import get_spec
from datadiet.experiments.config import DataConfig
from datadiet.experiments.driver import Driver, SweepSummary
from datadiet.experiments.executors import make_executor
from datadiet.experiments.layout import CACHE_DIR, DATABASE, EXPERIMENT_FILE, LOCK_FILE, RUNS_DIR
from datadiet.experiments.store import ResultStore
from datadiet.files import check_output_dir, remove_stale_temps, write_json
from datadiet.training.trainer import CHECKPOINT

if TYPE_CHECKING:
    from datadiet.experiments.recipe import Experiment

__all__ = ["SweepSummary", "datasets", "read_experiment", "reads_files", "run_sweep"]

_EXPERIMENT_KEYS = ("name", "preset", "resolved", "figures", "run_ids")
"""Entries of ``experiment.json`` that its readers use."""


def run_sweep(
    experiment: Experiment, out_dir: str | Path, *, executor: str = "local", jobs: int | None = None,
    address: str | None = None, device: str | None = None, progress: bool = True,
    executor_options: Mapping[str, Any] | None = None,
) -> SweepSummary:
    """Run the unfinished runs of ``experiment`` with results in ``out_dir`` (see the module docstring).

    The score sets the figures show are computed too. A failed run is reported in the summary and in the store's
    failures (and retried by the next sweep); the other runs go on. ``executor_options`` go to
    :func:`~datadiet.experiments.executors.make_executor` (``processes`` per run; Ray's ``cpus``, ``gpus``,
    ``max_retries``); ``jobs`` is the number of concurrent runs (default: 1 locally, no limit on Ray).
    """
    _check_data(datasets(experiment))
    out = Path(out_dir)
    _check_folder(out, experiment)
    _check_user_code(experiment)
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out), ResultStore(out / DATABASE) as store:
        _write_experiment(out, experiment)
        done = store.finished_ids()
        _tidy(out, done)
        pending = [r for r in experiment.runs if r.run_id not in done]
        summary = SweepSummary(len(experiment.runs), len(experiment.runs) - len(pending))
        needs = experiment.figure_needs()
        if pending or needs:
            runner = make_executor(executor, jobs=jobs, address=address, **(executor_options or {}))
            try:
                Driver(runner, out, store, device, summary).run(pending, experiment.name, progress, needs)
            finally:
                runner.close()
    return summary


def datasets(experiment: Experiment) -> set[DataConfig]:
    """The datasets of the experiment's runs and of the scores its figures show."""
    return {r.data for r in experiment.runs} | {need.data for need in experiment.figure_needs()}


def reads_files(data: DataConfig) -> bool:
    """Whether ``data`` is a built-in dataset read from files (and so takes a data folder)."""
    return data.loader is None and data.dataset is not None and bool(get_spec(data.dataset).data_dir)


def _check_folder(out: Path, experiment: Experiment) -> None:
    """Fail before anything is written if ``out`` cannot be the experiment's folder: not a writable folder, or
    one whose experiment record or results database is damaged or belongs to another experiment."""
    check_output_dir(out)
    if (out / EXPERIMENT_FILE).exists():
        _check_same_experiment(out, read_experiment(out), experiment)
    if (out / DATABASE).exists():
        ResultStore(out / DATABASE, create=False).close()


def _check_same_experiment(out: Path, old: dict, experiment: Experiment) -> None:
    if (old["name"], old["preset"]) != (experiment.name, experiment.preset):
        raise ValueError(f"{out} holds experiment {old['name']!r} (preset {old['preset']!r}), not "
                         f"{experiment.name!r} (preset {experiment.preset!r}); use another --out")


def _check_data(datasets: set[DataConfig]) -> None:
    """Fail before any run starts if a dataset that is read from files has no folder, or a missing one."""
    for data in datasets:
        if not reads_files(data):
            continue
        assert data.dataset is not None  # reads_files: a built-in dataset
        needs = get_spec(data.dataset).data_dir
        if data.data_dir is None:
            raise ValueError(f"dataset {data.dataset!r} is read from files: set data.data_dir in the recipe or "
                             f"pass --data-dir ({needs})")
        if not data.download and not Path(data.data_dir).exists():
            raise FileNotFoundError(f"data folder {data.data_dir} of dataset {data.dataset!r} does not exist "
                                    "(pass --data-dir, or --download)")


def _check_user_code(experiment: Experiment) -> None:
    """Fail before any run starts if a loader or a factory of the user returns the wrong thing: each loader is
    called and each factory builds one network on its data."""
    for data in {r.data for r in experiment.runs} | {need.data for need in experiment.figure_needs()}:
        if data.loader is not None:
            data.load()
    for model, data in {(r.model, r.data) for r in experiment.runs}:
        if model.factory is not None:
            model.build(data.load().train, 0)


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    with open(out / LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another sweep is running in {out}; wait for it or use another --out") from None
        yield


def _write_experiment(out: Path, experiment: Experiment) -> None:
    """Record the expanded experiment; a folder holds one recipe and preset."""
    path = out / EXPERIMENT_FILE
    if path.exists():
        _check_same_experiment(out, read_experiment(out), experiment)
    write_json(path, {
        "name": experiment.name, "preset": experiment.preset, "description": experiment.description,
        "recipe": experiment.recipe, "plot": dataclasses.asdict(experiment.plot),
        "epoch_seconds": experiment.epoch_seconds, "resolved": experiment.resolved,
        "figures": [figure.to_dict() for figure in experiment.figures],
        "run_ids": [r.run_id for r in experiment.runs], "version": datadiet.__version__,
        "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })


def read_experiment(out: str | Path) -> dict:
    """The ``experiment.json`` of an experiment folder."""
    path = Path(out) / EXPERIMENT_FILE
    if not Path(out).is_dir():
        raise FileNotFoundError(f"experiment folder {out} does not exist (or is not a folder)")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: is {out} the --out folder of a datadiet sweep?")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is damaged, not valid JSON ({error}); run the sweep again to rewrite it") from None
    missing = [key for key in _EXPERIMENT_KEYS if key not in info] if isinstance(info, dict) else list(_EXPERIMENT_KEYS)
    if missing:
        raise ValueError(f"{path} is not a datadiet experiment record (it lacks {', '.join(missing)})")
    return info


def _tidy(out: Path, done: set[str]) -> None:
    """Remove temporary files of a killed sweep and checkpoints of runs already recorded."""
    remove_stale_temps(out)
    for folder in (out / RUNS_DIR, out / CACHE_DIR):
        for tmp in folder.rglob(".*.tmp") if folder.exists() else ():
            tmp.unlink(missing_ok=True)
    for run_id in done:
        (out / RUNS_DIR / run_id / CHECKPOINT).unlink(missing_ok=True)
