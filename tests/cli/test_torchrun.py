"""``datadiet train`` under torchrun (2 gloo processes on the CPU) on Fashion-MNIST: every rank makes the same
selection, the shards are disjoint, rank 0 writes one result, the result matches one process, and a killed
2-process run resumes to the uninterrupted run's weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from processes import children

ARGS = ["train", "--dataset", "fashion-mnist", "--per-class", "300", "--model", "mlp", "--width", "0.5",
        "--epochs", "8", "--batch-size", "64", "--dynamic", "ucb", "--keep", "0.5", "--period", "1",
        "--no-progress"]
"""3,000 training images, one full-data warm-up epoch, then 1,500 re-selected by UCB every epoch."""
TOLERANCE = 0.01
"""Test accuracy of 2 processes versus 1: the same batches, gradients summed in another order (the seed spread of
this setting is about 0.015)."""


def _command(data: Path, out: Path, processes: int) -> list[str]:
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    prefix = launch if processes > 1 else [sys.executable]
    return [*prefix, "-m", "datadiet.cli", *ARGS, "--data-dir", str(data), "--out", str(out)]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _run(data: Path, out: Path, processes: int) -> str:
    done = subprocess.run(_command(data, out, processes), env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def _accuracy(out: Path) -> float:
    return json.loads((out / "result.json").read_text())["metrics"]["test_accuracy"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_two_processes_select_alike_and_resume_after_a_kill(fashion_dir, tmp_path):
    stdout = _run(fashion_dir, tmp_path / "two", 2)
    assert stdout.count("test accuracy") == 1  # rank 0 reports, rank 1 is silent
    result = json.loads((tmp_path / "two" / "result.json").read_text())
    assert result["processes"] == 2 and result["metrics"]["epochs"] == 8
    log = _log(tmp_path / "two")
    for entry in log:
        first, second = entry["selection_sha"]
        assert first == second  # both ranks drew their shards from the same selection
        assert entry["distinct_examples"] == entry["examples"] == (3000 if entry["epoch"] == 0 else 1500)  # disjoint
    assert len({entry["selection_sha"][0] for entry in log[1:]}) == 7  # re-selected every epoch

    _run(fashion_dir, tmp_path / "one", 1)
    assert [e["examples"] for e in _log(tmp_path / "one")] == [e["examples"] for e in log]
    assert abs(_accuracy(tmp_path / "one") - _accuracy(tmp_path / "two")) <= TOLERANCE

    killed = tmp_path / "killed"
    launcher = subprocess.Popen(_command(fashion_dir, killed, 2), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not ((killed / "log.jsonl").exists() and len(_log(killed)) >= 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = children(launcher.pid)
    for pid in [*workers, launcher.pid]:
        os.kill(pid, signal.SIGKILL)
    launcher.wait()
    assert len(workers) == 2 and not (killed / "model.pt").exists(), "the run finished before it was killed"
    _run(fashion_dir, killed, 2)
    whole = torch.load(tmp_path / "two" / "model.pt", weights_only=True)
    resumed = torch.load(killed / "model.pt", weights_only=True)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)  # every rank continued from rank 0's checkpoint
    assert _log(killed) == [{**e, **_timing(k)} for e, k in zip(log, _log(killed))]


def _timing(entry: dict) -> dict:
    """The entry's wall-clock fields (they differ between runs)."""
    return {k: v for k, v in entry.items() if k.endswith("_seconds")}
