"""``datadiet dynamics velocity`` and ``barrier`` end to end on a small slice of digits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from datadiet.analysis import barrier as barrier_module
from datadiet.cli import dynamics_cmd

SMALL = ["--dataset", "digits", "--per-class", "20", "--model", "mlp", "--width", "0.125", "--epochs", "2",
         "--batch-size", "32", "--no-progress"]


def dynamics(*argv: str) -> int:
    """Parse and run like ``datadiet dynamics ...`` (errors raised, as main() would turn them into one line)."""
    parser = argparse.ArgumentParser(prog="datadiet")
    dynamics_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dynamics", *argv])
    return args.run(args)


def test_velocity_writes_numbers_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "fig3"
    assert dynamics("velocity", *SMALL, "--noise-levels", "0,0.1", "--ranks", "0,90", "--window", "10",
                    "--out", str(out)) == 0
    record = json.loads((out / "velocity.json").read_text())
    assert [run["label_noise"] for run in record["runs"]] == [0.0, 0.1]
    assert record["ranking"] == {"score": "el2n", "scores_from": "tracked", "seeds": [0],
                                 "at": "each curve's first epoch"}
    velocity = np.array(record["runs"][1]["velocity"])
    assert velocity.shape == (2, 2) and np.all((velocity > 0) & (velocity < 1))
    assert np.array(record["runs"][1]["windows"]).shape == (2, 2, 10)
    assert (out / "velocity.png").stat().st_size > 0
    assert not (out / "training").exists()


def test_velocity_ranks_by_independent_runs_on_request(tmp_path: Path) -> None:
    out = tmp_path / "fig3"
    assert dynamics("velocity", *SMALL, "--scores-from", "independent", "--score-runs", "2", "--ranks", "0,90",
                    "--window", "10", "--out", str(out)) == 0
    record = json.loads((out / "velocity.json").read_text())
    assert record["ranking"]["scores_from"] == "independent" and record["ranking"]["seeds"] == [1, 2]
    assert np.array(record["runs"][0]["velocity"]).shape == (2, 2)


def test_barrier_writes_numbers_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "fig4"
    assert dynamics("barrier", *SMALL, "--spawn-epochs", "0,1", "--score-epoch", "1", "--subset-size", "30",
                    "--alphas", "3", "--bn-examples", "64", "--out", str(out)) == 0
    record = json.loads((out / "barrier.json").read_text())
    assert set(record["barriers"]) == {"highest", "lowest", "random", "test"}
    assert np.array(record["barriers"]["random"]).shape == (1, 2)
    assert record["repeats"][0]["alphas"] == [0.0, 0.5, 1.0]
    assert (out / "barrier.png").stat().st_size > 0
    assert not (out / "training").exists()


def _stopped(*args, **kwargs):
    raise OSError("stopped")  # stands for a process killed after the first children's training


def test_the_same_command_resumes_a_stopped_barrier(tmp_path: Path, monkeypatch) -> None:
    argv = ["barrier", *SMALL, "--spawn-epochs", "0,1", "--score-epoch", "1", "--subset-size", "30", "--alphas", "3"]
    assert dynamics(*argv, "--out", str(tmp_path / "whole")) == 0
    out = tmp_path / "stopped"
    with monkeypatch.context() as patch:
        patch.setattr(barrier_module, "interpolation_errors", _stopped)
        with pytest.raises(OSError, match="stopped"):
            dynamics(*argv, "--out", str(out))
    assert {p.parent.name for p in (out / "training" / "seed0").glob("*/checkpoint.pt")} == {
        "parent", "child-e0-s1", "child-e0-s2"}
    assert dynamics(*argv, "--out", str(out)) == 0
    assert not (out / "training").exists()
    whole, resumed = (json.loads((tmp_path / name / "barrier.json").read_text()) for name in ("whole", "stopped"))
    assert resumed["repeats"] == whole["repeats"] and resumed["barriers"] == whole["barriers"]


@pytest.mark.parametrize(("argv", "message"), [
    (["velocity", *SMALL, "--score-runs", "2", "--out", "x"], "--score-runs is for --scores-from independent"),
    (["velocity", *SMALL, "--score", "forgetting", "--out", "x"], "not computed from one network's weights"),
    (["velocity", *SMALL, "--track-epochs", "3", "--out", "x"], "--track-epochs"),
    (["velocity", *SMALL, "--ranks", "0,191", "--window", "10", "--out", "x"], r"ranks must be in \[0, 190\]"),
    (["barrier", *SMALL, "--spawn-epochs", "0,2", "--score-epoch", "1", "--out", "x"], "spawn epochs"),
    (["barrier", *SMALL, "--spawn-epochs", "0", "--score-epoch", "1", "--subset-size", "201", "--out", "x"],
     "subset_size"),
])
def test_bad_requests_are_value_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dynamics(*argv)
