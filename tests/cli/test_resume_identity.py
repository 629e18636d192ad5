"""A resume never mixes two runs: each setting that changes the result, changed between the first start and the
restart, is refused with a message naming it; the same settings resume bit-identically; temporary files a
killed run left are removed."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from datadiet.cli.main import main

BASE = ["train", "--dataset", "digits", "--model", "mlp", "--no-progress", "--batch-size", "64"]
STATIC = [*BASE, "--epochs", "2"]
NOISY = [*STATIC, "--label-noise", "0.1"]
UCB = [*BASE, "--epochs", "3", "--dynamic", "ucb", "--keep", "0.5", "--period", "1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Finished runs (their checkpoints kept) of the three settings changed below, and a subset."""
    folder = tmp_path_factory.mktemp("runs")
    torch.set_num_threads(1)
    for name, argv in (("static", STATIC), ("noisy", NOISY), ("ucb", UCB)):
        assert main([*argv, "--out", str(folder / name)]) == 0
    np.save(folder / "subset.npy", np.arange(0, 1437, 2))  # digits has 1437 training examples
    np.save(folder / "other.npy", np.arange(1, 1437, 2))
    return folder


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


CHANGES = [
    ("static", ["--model", "small_cnn"], "model: saved mlp, now small_cnn"),
    ("static", ["--width", "2"], "width: saved 1.0, now 2.0"),
    ("static", ["--seed", "1"], "seed: saved 0, now 1"),
    ("static", ["--lr", "0.05"], "lr: saved 0.1, now 0.05"),
    ("static", ["--weight-decay", "0"], "weight_decay: saved 0.0005, now 0.0"),
    ("static", ["--batch-size", "32"], "batch_size: saved 64, now 32"),
    ("static", ["--augment", "none"], "augment: saved none, now none"),
    ("static", ["--precision", "fp32"], "precision: saved auto, now fp32"),
    ("static", ["--label-noise", "0.1"], "label_noise: saved 0.0, now 0.1"),
    ("static", ["--per-class", "100"], "per_class: saved none, now 100"),
    ("static", ["--imbalance"], "imbalance: saved false, now true"),
    ("static", ["--val-fraction", "0.1"], "val_fraction: saved 0.0, now 0.1"),
    ("static", ["--subset", "{subset}"], "subset: saved none, now "),
    ("static", ["--dynamic", "ucb", "--keep", "0.5"], "dynamic: saved none, now ucb"),
    ("noisy", ["--data-seed", "1"], "data_seed: saved 0, now 1"),
    ("noisy", ["--label-noise", "0.2"], "label_noise: saved 0.1, now 0.2"),
    ("ucb", [], "dynamic: saved ucb, now none"),
    ("ucb", ["--dynamic", "uncertainty"], "dynamic: saved ucb, now uncertainty"),
    ("ucb", ["--keep", "0.3"], "keep: saved 0.5, now 0.3"),
    ("ucb", ["--period", "2"], "period: saved 1, now 2"),
    ("ucb", ["--score-source", "batch"], "score_source: saved pass, now batch"),
    ("ucb", ["--policy-options", '{"c": 2.0}'], 'policy_options: saved {}, now {"c": 2.0}'),
    ("ucb", ["--paper-faithful"], "paper_faithful: saved false, now true"),
    ("ucb", ["--warmup-epochs", "0"], "warmup_epochs: saved none, now 0"),
    ("ucb", ["--final-full-epochs", "1"], "final_full_epochs: saved none, now 1"),
    ("ucb", ["--score-precision", "bf16"], "score_precision: saved none, now bf16"),
]


def _changed(base: str, change: list[str], subset: str) -> list[str]:
    """The base run's command with ``change`` applied (a flag given again replaces its value)."""
    argv = {"static": STATIC, "noisy": NOISY, "ucb": UCB}[base]
    if base == "ucb" and not change:
        return [*BASE, "--epochs", "3"]
    if base == "ucb" and change[0] == "--dynamic":
        return [*BASE, "--epochs", "3", "--dynamic", change[1], "--keep", "0.5", "--period", "1"]
    given = {flag for flag in change if flag.startswith("--")}
    kept, skip = [], False
    for i, item in enumerate(argv):
        if skip:
            skip = False
            continue
        if item in given:
            skip = i + 1 < len(argv) and not argv[i + 1].startswith("--")
            continue
        kept.append(item)
    return [*kept, *(subset if item == "{subset}" else item for item in change)]


@pytest.mark.parametrize("base, change, expected", CHANGES, ids=[" ".join([b, *c]) or b for b, c, _ in CHANGES])
def test_a_changed_setting_is_refused_by_name(runs, tmp_path, capsys, monkeypatch, base, change, expected):
    out = tmp_path / base
    shutil.copytree(runs / base, out)
    before = _snapshot(out)
    monkeypatch.setattr("datadiet.training.trainer._Run.fit", _refuse)
    capsys.readouterr()
    assert main([*_changed(base, change, str(runs / "subset.npy")), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"--out {out} holds a run with other settings" in err and expected in err, err
    assert "delete it to start over" in err
    assert _snapshot(out) == before


def test_another_subset_is_refused(runs, tmp_path, capsys):
    out = tmp_path / "sub"
    assert main([*STATIC, "--subset", str(runs / "subset.npy"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*STATIC, "--subset", str(runs / "other.npy"), "--out", str(out)]) == 2
    assert "subset: saved " in capsys.readouterr().err


def _refuse(*args, **kwargs):
    raise AssertionError("training started")


def _interrupt_after(epochs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop ``train`` with KeyboardInterrupt right after the checkpoint of epoch ``epochs`` is written."""
    from datadiet.training.trainer import _Run

    real = _Run._save

    def save(self) -> None:
        real(self)
        if self.epoch == epochs:
            raise KeyboardInterrupt

    monkeypatch.setattr(_Run, "_save", save)


@pytest.mark.parametrize("argv", [
    [*BASE, "--epochs", "3", "--label-noise", "0.2", "--data-seed", "3", "--width", "0.5"],
    [*BASE, "--epochs", "3", "--dynamic", "ucb", "--keep", "0.4", "--period", "1", "--policy-options", '{"c": 0.5}'],
    [*BASE, "--epochs", "4", "--dynamic", "infobatch"],
], ids=["static with noise", "ucb", "infobatch with its defaults"])
def test_the_same_settings_resume_bit_identically(tmp_path, monkeypatch, argv):
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    with monkeypatch.context() as patch:
        _interrupt_after(2, patch)
        assert main([*argv, "--out", str(tmp_path / "resumed")]) == 130
    assert not (tmp_path / "resumed" / "model.pt").exists()
    assert main([*argv, "--out", str(tmp_path / "resumed")]) == 0
    whole, resumed = (torch.load(tmp_path / d / "model.pt", weights_only=True) for d in ("whole", "resumed"))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    logs = [[{k: v for k, v in _json(line).items() if "seconds" not in k}
             for line in (tmp_path / d / "log.jsonl").read_text().splitlines()] for d in ("whole", "resumed")]
    assert logs[0] == logs[1]
    if "--dynamic" in argv:
        assert np.array_equal(np.load(tmp_path / "whole" / "selection_counts.npy"),
                              np.load(tmp_path / "resumed" / "selection_counts.npy"))


def _json(line: str) -> dict:
    import json

    return json.loads(line)


def test_temporary_files_of_a_killed_run_are_removed_on_restart(runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(runs / "static", out)
    for name in (".checkpoint.pt.abc123.tmp", ".model.pt.x.tmp", ".selection_counts.npy.y.tmp"):
        (out / name).write_bytes(b"half")
    assert main([*STATIC, "--out", str(out)]) == 0
    assert not list(out.glob(".*.tmp"))


_SLOW_SAVE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import torch
    from datadiet.cli.main import main

    real, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        real(obj, f, *args, **kwargs)
        calls.append(f)
        if len(calls) == 2:  # the second epoch's checkpoint: written to its temporary file, not yet renamed
            Path(sys.argv[1]).write_text(str(f))
            time.sleep(600)

    torch.save = save
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.slow
def test_a_kill_during_a_checkpoint_write_leaves_no_temporary_file_after_the_restart(tmp_path):
    argv = [*BASE, "--epochs", "4"]
    out, marker = tmp_path / "killed", tmp_path / "writing"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(marker), *argv, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    temporary = Path(marker.read_text())
    assert temporary.name.startswith(".checkpoint.pt.") and temporary.exists(), "not killed inside a write"
    assert main([*argv, "--out", str(out)]) == 0
    assert not list(out.glob(".*.tmp"))
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    whole, resumed = (torch.load(d / "model.pt", weights_only=True) for d in (tmp_path / "whole", out))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
