"""The scheduling of a sweep: score parts first, each run as soon as its inputs exist, results recorded.

Every missing part of every needed score set (those of the runs and those the figures show) is submitted at
once, beside the runs that need nothing; when the last part of a set finishes, the set is assembled here and
its runs are submitted. A run that reads other runs' files (``required_runs``: the source runs of an always +
sometimes run) waits until they have finished. A finished run's row is written to the store and its
checkpoint removed; a failed part or required run fails the runs that wait for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from datadiet.experiments.config import RunConfig
from datadiet.experiments.scoring import ScoreCache, ScoreNeed, assemble, score_need
from datadiet.experiments.layout import CACHE_DIR, RUNS_DIR
from datadiet.experiments.store import ResultStore
from datadiet.experiments.tasks import RunTask, ScoreTask
from datadiet.training.trainer import CHECKPOINT

__all__ = ["Driver", "SweepSummary"]


@dataclass
class SweepSummary:
    """What a sweep did: ``total`` runs, ``skipped`` (finished before), ``finished`` and ``failed`` now, and the
    score parts computed (``scored``, keys)."""

    total: int
    skipped: int
    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    scored: list[str] = field(default_factory=list)


class Driver:
    """Feeds an executor the tasks of ``pending`` runs and records their outcomes in ``store``."""

    def __init__(self, executor, out: Path, store: ResultStore, device: str | None, summary: SweepSummary) -> None:
        self.executor, self.out, self.store, self.device, self.summary = executor, out, store, device, summary
        self.cache = ScoreCache(out / CACHE_DIR)
        self.tasks: dict[int, ScoreTask | RunTask] = {}
        self.needs: dict[str, ScoreNeed] = {}
        self.missing: dict[str, set[str]] = {}  # set key -> keys of its parts still computing
        self.users: dict[str, list[str]] = defaultdict(list)  # part key -> keys of the sets waiting for it
        self.waiting: dict[str, list[RunConfig]] = defaultdict(list)  # set key -> runs waiting for it
        self.done: set[str] = store.finished_ids()
        self.after: dict[str, list[RunConfig]] = defaultdict(list)  # run id -> runs waiting for it
        self.blocked: dict[str, set[str]] = {}  # run id -> ids of the required runs not finished yet

    def run(self, pending: list[RunConfig], name: str, progress: bool, needs: Iterable[ScoreNeed] = ()) -> None:
        """Run ``pending`` and compute the score sets ``needs`` (those no run waits for: figures)."""
        with tqdm(total=self.summary.total, initial=self.summary.skipped, desc=name, unit="run",
                  disable=not progress, dynamic_ncols=True) as self.bar:
            for need in needs:
                if not self.cache.has(need.key) and need.key not in self.needs:
                    self._plan(need)
            scheduled = self.done | {r.run_id for r in pending}
            for run in pending:
                unknown = [r.run_id for r in run.method.params.required_runs(run) if r.run_id not in scheduled]
                if unknown:
                    self._failed(run, f"it needs runs that are not part of the experiment: {', '.join(unknown)}")
                else:
                    self._dispatch(run)
            while self.tasks:
                ident, outcome = self.executor.next_done()
                task = self.tasks.pop(ident)
                if isinstance(task, ScoreTask):
                    self._scored(task.part, outcome)
                else:
                    self._finished(task.run, outcome)

    def _dispatch(self, run: RunConfig) -> None:
        """Submit ``run`` once the runs it reads have finished and its scores exist."""
        missing = {r.run_id for r in run.method.params.required_runs(run)} - self.done
        if missing:
            self.blocked[run.run_id] = missing
            for run_id in missing:
                self.after[run_id].append(run)
            return
        need = score_need(run)
        if need is None or self.cache.has(need.key):
            self._submit(RunTask(run, str(self.out), self.device))
            return
        self.waiting[need.key].append(run)
        if need.key not in self.needs:
            self._plan(need)

    def _submit(self, task: ScoreTask | RunTask) -> None:
        self.tasks[self.executor.submit(task)] = task

    def _plan(self, need: ScoreNeed) -> None:
        """Submit the parts of ``need`` that are neither cached nor already submitted for another set."""
        self.needs[need.key] = need
        missing = [p for p in need.parts() if not self.cache.parts.has(p.key)]
        self.missing[need.key] = {p.key for p in missing}
        for part in missing:
            if part.key not in self.users:
                self._submit(ScoreTask(part, str(self.out), self.device))
            self.users[part.key].append(need.key)
        if not missing:
            self._assembled(need.key)

    def _scored(self, part: ScoreNeed, outcome) -> None:
        for key in self.users.pop(part.key):
            if isinstance(outcome, BaseException):
                self._fail_waiting(key, f"scores {part.label} failed: {_first_line(outcome)}")
                continue
            self.missing[key].discard(part.key)
            if not self.missing[key]:
                self._assembled(key)
        if not isinstance(outcome, BaseException):
            self.summary.scored.append(part.key)
            if not self.bar.disable:
                self.bar.write(f"scores {part.label}: {outcome['seconds']:.1f} s")

    def _assembled(self, key: str) -> None:
        try:
            assemble(self.needs[key], self.cache)
        except (ValueError, OSError) as error:
            self._fail_waiting(key, f"assembling scores {self.needs[key].label} failed: {_first_line(error)}")
            return
        for run in self.waiting.pop(key, []):
            self._submit(RunTask(run, str(self.out), self.device))

    def _fail_waiting(self, key: str, message: str) -> None:
        for run in self.waiting.pop(key, []):
            self._failed(run, message)

    def _finished(self, run: RunConfig, outcome) -> None:
        if isinstance(outcome, BaseException):
            self._failed(run, _first_line(outcome))
            return
        self.store.insert(run.run_id, run.to_dict(), outcome)
        (self.out / RUNS_DIR / run.run_id / CHECKPOINT).unlink(missing_ok=True)
        self.summary.finished.append(run.run_id)
        self.done.add(run.run_id)
        self.bar.update(1)
        for waiting in self.after.pop(run.run_id, []):
            if waiting.run_id in self.summary.failed:
                continue
            self.blocked[waiting.run_id].discard(run.run_id)
            if not self.blocked[waiting.run_id]:
                del self.blocked[waiting.run_id]
                self._dispatch(waiting)

    def _failed(self, run: RunConfig, message: str) -> None:
        self.summary.failed[run.run_id] = message
        self.store.record_failure(run.run_id, message)
        self.bar.write(f"run {run.run_id} ({run.method.label}, keep {run.keep}, seed {run.seed}) failed: {message}")
        self.bar.update(1)
        for waiting in self.after.pop(run.run_id, []):
            if waiting.run_id not in self.summary.failed:
                self.blocked.pop(waiting.run_id, None)
                self._failed(waiting, f"required run {run.run_id} ({run.method.label}) failed")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
