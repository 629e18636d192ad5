"""The result store: one SQLite database per experiment folder, one row per finished run.

Table ``runs``: ``run_id`` (hash of the run's configuration, the primary key), ``config`` (the configuration as
JSON), ``metrics`` (JSON: test accuracy, wall-clock split into training and scoring, samples seen, ...),
``version`` (datadiet's) and ``finished`` (UTC, ISO 8601). The database runs in WAL mode; each insert is one
statement and so one transaction, so a process killed at any moment leaves whole rows only, and several processes
may write at once (each waits up to ``timeout`` seconds for the others). The first row written for a run id is kept.
Table ``failures``: the last failure of each run, ``run_id``, ``message`` (the error's type and first line) and
``failed`` (UTC); :meth:`ResultStore.failures` lists those of runs not finished since.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import datadiet
from datadiet.files import check_input_file

__all__ = ["ResultRow", "ResultStore"]
_HEADER = b"SQLite format 3\x00"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    version TEXT NOT NULL,
    finished TEXT NOT NULL
)
"""
_FAILURES = """
CREATE TABLE IF NOT EXISTS failures (
    run_id TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    failed TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class ResultRow:
    """One finished run."""

    run_id: str
    config: dict
    metrics: dict
    version: str
    finished: str


def _check_database(path: Path) -> None:
    """Raise unless ``path`` is an SQLite database file (checked before SQLite, which would make an empty file a
    database)."""
    check_input_file(path, "results database")
    with open(path, "rb") as f:
        header = f.read(len(_HEADER))
    if not header:
        raise ValueError(f"results database {path} is empty (no sweep has recorded a run in it)")
    if header != _HEADER:
        raise ValueError(f"{path} is not an SQLite database, so not a datadiet results database")


class ResultStore:
    """Finished runs of an experiment in ``path`` (created if missing); use as a context manager or ``close()``."""

    def __init__(self, path: str | Path, *, timeout: float = 60.0, create: bool = True) -> None:
        """Open the store at ``path``; with ``create`` False (to read) it must exist and hold the table, and
        nothing is written to it. A file that is not a results database is a ``ValueError`` naming it."""
        self.path = Path(path)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        else:
            _check_database(self.path)
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            if create:
                self._setup(time.monotonic() + timeout)
            else:
                self._check_table()
        except (sqlite3.DatabaseError, ValueError) as error:
            self._db.close()
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            raise ValueError(f"{self.path} is not a readable datadiet results database ({error}); move it away "
                             "to start the experiment over") from None

    def _setup(self, deadline: float) -> None:
        """WAL mode and the table. Switching to WAL can fail at once (no busy wait) while another process opens
        the same new database, so it is retried until ``deadline``."""
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute(_SCHEMA)
                self._db.execute(_FAILURES)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_table(self) -> None:
        """Raise ``ValueError`` unless the database holds the ``runs`` table."""
        found = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
        if found is None:
            raise ValueError("it has no table of runs")

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def insert(self, run_id: str, config: dict, metrics: dict) -> bool:
        """Record a finished run in one transaction; False (and nothing written) if the id is already there."""
        row = (run_id, json.dumps(config, sort_keys=True), json.dumps(metrics, sort_keys=True),
               datadiet.__version__, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        cursor = self._db.execute(
            "INSERT INTO runs (run_id, config, metrics, version, finished) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(run_id) DO NOTHING", row)
        return cursor.rowcount == 1

    def record_failure(self, run_id: str, message: str) -> None:
        """Record that ``run_id`` failed with ``message`` (replacing an earlier failure of it)."""
        self._db.execute("INSERT OR REPLACE INTO failures (run_id, message, failed) VALUES (?, ?, ?)",
                         (run_id, message, datetime.now(timezone.utc).isoformat(timespec="seconds")))

    def failures(self) -> dict[str, str]:
        """``{run id: message}`` of the runs whose last attempt failed and that have not finished since."""
        cursor = self._db.execute("SELECT run_id, message FROM failures WHERE run_id NOT IN (SELECT run_id FROM runs) "
                                  "ORDER BY failed, rowid")
        return dict(cursor.fetchall())

    def finished_ids(self) -> set[str]:
        """Ids of every recorded run."""
        return {r[0] for r in self._select("SELECT run_id FROM runs")}

    def rows(self) -> list[ResultRow]:
        """Every recorded run, in the order they finished."""
        rows = self._select("SELECT run_id, config, metrics, version, finished FROM runs ORDER BY rowid")
        try:
            return [ResultRow(r[0], json.loads(r[1]), json.loads(r[2]), r[3], r[4]) for r in rows]
        except json.JSONDecodeError as error:
            raise ValueError(f"{self.path} holds a damaged row ({error})") from None

    def _select(self, query: str) -> list[tuple]:
        """The rows of ``query``; a damaged database is a ``ValueError`` naming it."""
        try:
            return self._db.execute(query).fetchall()
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self.path} is a damaged results database ({error})") from None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

