"""The SQLite result store: insert, read back, skip what is there, several writers at once."""

from __future__ import annotations

import multiprocessing
import sqlite3

import datadiet
from datadiet.experiments import ResultStore


def test_insert_and_read_back(tmp_path):
    with ResultStore(tmp_path / "results.sqlite") as store:
        assert store.insert("a", {"keep": 0.5, "method": {"label": "el2n"}}, {"test_accuracy": 0.9})
        assert store.insert("b", {"keep": None}, {"test_accuracy": 0.8, "train_seconds": 1.5})
        assert len(store) == 2 and store.finished_ids() == {"a", "b"}
    with ResultStore(tmp_path / "results.sqlite") as store:  # reopened: persisted
        a, b = store.rows()
    assert (a.run_id, a.config, a.metrics) == ("a", {"keep": 0.5, "method": {"label": "el2n"}}, {"test_accuracy": 0.9})
    assert b.config == {"keep": None} and b.version == datadiet.__version__ and b.finished.endswith("+00:00")


def test_the_first_row_of_a_run_is_kept(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.insert("a", {}, {"test_accuracy": 0.9})
        assert not store.insert("a", {}, {"test_accuracy": 0.1})
        assert [r.metrics for r in store.rows()] == [{"test_accuracy": 0.9}]


def test_wal_mode(tmp_path):
    with ResultStore(tmp_path / "r.sqlite"):
        pass
    assert sqlite3.connect(tmp_path / "r.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(path: str, worker: int, barrier) -> None:
    barrier.wait()
    with ResultStore(path) as store:
        for i in range(40):
            run = f"run{i % 25}" if i % 2 else f"w{worker}-{i}"  # odd i: ids every writer shares
            store.insert(run, {"worker": worker, "i": i}, {"value": i})


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(tmp_path):
    path = str(tmp_path / "r.sqlite")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    workers = [ctx.Process(target=_writer, args=(path, w, barrier)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    with ResultStore(path) as store:
        rows = store.rows()
    expected = {f"w{w}-{i}" for w in range(4) for i in range(0, 40, 2)} | {f"run{i % 25}" for i in range(1, 40, 2)}
    assert sorted(r.run_id for r in rows) == sorted(expected)
    assert all(r.metrics == {"value": r.config["i"]} for r in rows)  # whole rows, never mixed
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
