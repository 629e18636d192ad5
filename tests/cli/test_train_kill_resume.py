"""``datadiet train`` killed with SIGKILL mid-run and started again ends with the uninterrupted run's weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import torch

ARGS = ["train", "--dataset", "digits", "--model", "mlp", "--epochs", "40", "--batch-size", "32", "--no-progress"]


def _command(out) -> list[str]:
    return [sys.executable, "-m", "datadiet.cli.main", *ARGS, "--out", str(out)]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    subprocess.run(_command(tmp_path / "whole"), check=True, env=_env(), capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_command(killed), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = killed / "log.jsonl"
    deadline = time.monotonic() + 120
    while not (log.exists() and len(log.read_text().splitlines()) >= 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "model.pt").exists(), "the run finished before it could be killed"
    subprocess.run(_command(killed), check=True, env=_env(), capture_output=True)
    whole = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)
    resumed = torch.load(killed / "model.pt", weights_only=True)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    metrics = [json.loads((d / "result.json").read_text())["metrics"] for d in (tmp_path / "whole", killed)]
    assert metrics[0]["test_accuracy"] == metrics[1]["test_accuracy"]
    assert metrics[1]["epochs"] == 40
