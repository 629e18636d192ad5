"""``datadiet train --dynamic infobatch`` follows InfoBatch's own rule unless told otherwise: a new selection every
epoch from the previous epochs' training losses, no scoring pass, no warm-up, all data in the final delta of the
epochs; explicitly given options still win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from datadiet.cli.main import main

EPOCHS = 4
INFOBATCH = ["train", "--dataset", "digits", "--model", "mlp", "--no-progress", "--batch-size", "64", "--epochs",
             str(EPOCHS), "--dynamic", "infobatch"]
N = 1437  # digits' training examples


def _run(argv: list[str], out: Path) -> tuple[dict, list[dict]]:
    torch.set_num_threads(1)
    assert main([*argv, "--out", str(out)]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return json.loads((out / "result.json").read_text()), log


def test_defaults_are_infobatchs_own_rule(tmp_path):
    result, log = _run(INFOBATCH, tmp_path / "run")
    dynamic = result["dynamic"]
    assert (dynamic["period"], dynamic["warmup_epochs"], dynamic["score_source"]) == (1, 0, "batch")
    assert dynamic["final_full_epochs"] == 1  # delta 0.125 of 4 epochs, rounded half up
    assert dynamic["checkpoints"] == EPOCHS - 1  # a selection at every epoch but the final full one
    assert result["metrics"]["scoring_forward"] == 0 == sum(line["scoring_forward"] for line in log)
    sizes = [line["examples"] for line in log]
    assert sizes[0] == N and sizes[-1] == N  # nothing scored before epoch 0; the final delta on all data
    assert all(size < N for size in sizes[1:-1])  # pruned from the previous epochs' training losses
    shas = [line["selection_sha"][0] for line in log[1:-1]]
    assert len(set(shas)) == len(shas)  # re-pruned every epoch


def test_given_options_win(tmp_path):
    argv = [*INFOBATCH, "--period", "2", "--warmup-epochs", "1", "--score-source", "pass"]
    result, log = _run(argv, tmp_path / "run")
    dynamic = result["dynamic"]
    assert (dynamic["period"], dynamic["warmup_epochs"], dynamic["score_source"]) == (2, 1, "pass")
    assert dynamic["checkpoints"] == 1 and log[0]["examples"] == N
    assert result["metrics"]["scoring_forward"] == N  # one scoring pass, at the checkpoint of epoch 1


@pytest.mark.parametrize("flag, value, expected", [
    ("--period", "10", "period: saved 1, now 10"),
    ("--score-source", "pass", "score_source: saved batch, now pass"),
])
def test_a_run_made_with_the_defaults_refuses_other_settings(tmp_path, capsys, flag, value, expected):
    out = tmp_path / "run"
    _run(INFOBATCH, out)
    capsys.readouterr()
    assert main([*INFOBATCH, flag, value, "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err
