"""Bad input on the command line: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet.cli.main import main

DIGITS = ["--dataset", "digits", "--model", "mlp", "--no-progress"]


def _fails_in_one_line(capsys, argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert expected in err, err


@pytest.fixture(scope="module")
def score_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scores") / "el2n.npz"
    assert main(["score", *DIGITS, "--method", "el2n", "--epoch", "1", "--out", str(path)]) == 0
    return path


@pytest.mark.parametrize("argv, expected", [
    (["train", "--dataset", "nope", "--model", "mlp", "--epochs", "1", "--out", "x"], "valid: cifar10"),
    (["train", *DIGITS[:2], "--model", "nope", "--epochs", "1", "--out", "x"], "valid names: basic_cnn"),
    (["train", *DIGITS, "--epochs", "0", "--out", "x"], "positive"),
    (["train", *DIGITS, "--steps", "-3", "--out", "x"], "positive"),
    (["train", *DIGITS, "--out", "x"], "--epochs --steps is required"),
    (["train", "--dataset", "fashion-mnist", "--data-dir", "/nonexistent", "--model", "mlp", "--epochs", "1",
      "--out", "x"], "/nonexistent"),
    (["train", *DIGITS, "--epochs", "1", "--dynamic", "bogus", "--keep", "0.3", "--out", "x"], "valid: random"),
    (["train", *DIGITS, "--epochs", "1", "--dynamic", "ucb", "--keep", "1.3", "--out", "x"], "keep"),
    (["score", *DIGITS, "--method", "bogus", "--epoch", "1", "--out", "x.npz"], "valid:"),
    (["nonsense"], "invalid choice"),
    (["train", *DIGITS, "--epochs", "1", "--lr", "1e30", "--out", "x"], "lower the learning rate"),
])
def test_bad_arguments(capsys, tmp_path, argv, expected):
    argv = [str(tmp_path / a) if a in ("x", "x.npz") else a for a in argv]
    _fails_in_one_line(capsys, argv, expected)


@pytest.mark.parametrize("indices, expected", [
    (np.array([0, 5, 5, 7]), "more than once"),
    (np.array([0, 1, 100000]), "not examples"),
    (np.array([-1, 2]), "negative"),
])
def test_bad_subset_files(capsys, tmp_path, indices, expected):
    np.save(tmp_path / "subset.npy", indices)
    argv = ["train", *DIGITS, "--epochs", "1", "--subset", str(tmp_path / "subset.npy"), "--out", str(tmp_path / "r")]
    _fails_in_one_line(capsys, argv, expected)


def test_missing_subset_file_is_named(capsys, tmp_path):
    missing = tmp_path / "missing.npy"
    _fails_in_one_line(capsys, ["train", *DIGITS, "--epochs", "1", "--subset", str(missing), "--out",
                                str(tmp_path / "r")], str(missing))


@pytest.mark.parametrize("extra, expected", [
    (["--keep", "0"], "keep"), (["--keep", "1.5"], "keep"), (["--keep", "0.5", "--offset", "0.6"], "offset"),
    (["--keep", "0.5", "--rule", "keep_lowest", "--offset", "0.1"], "contradicts"),
    (["--keep", "0.5", "--strata", "4"], "takes no --strata"), (["--keep", "0.5", "--rule", "ccs"], "needs --ccs-beta"),
    (["--keep", "0.5", "--rule", "top"], "invalid choice"),
])
def test_bad_selection(capsys, tmp_path, score_file, extra, expected):
    _fails_in_one_line(capsys, ["select", "--scores", str(score_file), *extra, "--out", str(tmp_path / "s.npy")],
                       expected)


def test_wrong_length_and_nan_score_files(capsys, tmp_path, score_file):
    with np.load(score_file, allow_pickle=False) as npz:
        arrays = dict(npz)
    short = {**arrays, "runs": arrays["runs"][:, :-1], "mean": arrays["mean"][:-1]}
    np.savez(tmp_path / "short.npz", **short)
    _fails_in_one_line(capsys, ["select", "--scores", str(tmp_path / "short.npz"), "--keep", "0.5", "--out",
                                str(tmp_path / "s.npy")], "short.npz")
    runs = arrays["runs"].copy()
    runs[0, 3] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "runs": runs, "mean": runs.mean(0)})
    _fails_in_one_line(capsys, ["select", "--scores", str(tmp_path / "nan.npz"), "--keep", "0.5", "--out",
                                str(tmp_path / "s.npy")], "NaN")


def test_scores_of_another_dataset_are_refused(capsys, tmp_path, score_file):
    assert main(["select", "--scores", str(score_file), "--keep", "0.5", "--out", str(tmp_path / "s.npy")]) == 0
    argv = ["train", *DIGITS, "--label-noise", "0.2", "--epochs", "1", "--subset", str(tmp_path / "s.npy"),
            "--out", str(tmp_path / "r")]
    _fails_in_one_line(capsys, argv, "label fingerprint")


def test_select_by_rule_name_equals_its_shorthand(tmp_path, score_file):
    for name, argv in (("rule", ["--rule", "sliding_window", "--offset", "0.2"]), ("flag", ["--offset", "0.2"])):
        out = str(tmp_path / f"{name}.npy")
        assert main(["select", "--scores", str(score_file), "--keep", "0.3", *argv, "--out", out]) == 0
    assert np.array_equal(np.load(tmp_path / "rule.npy"), np.load(tmp_path / "flag.npy"))


@pytest.mark.parametrize("what, names", [("scores", ["el2n", "forgetting", "grand"]),
                                          ("rules", ["ccs", "keep_highest", "sliding_window"])])
def test_list_shows_every_name_with_a_description(capsys, what, names):
    assert main(["list", what]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(any(line.split()[0] == n and len(line.split()) > 1 for line in lines) for n in names)


def test_a_reader_that_stops_early_ends_the_command_quietly():
    import subprocess
    import sys

    command = [sys.executable, "-m", "datadiet.cli", "recipes", "list"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # like `| head` that has read enough, before the command writes
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0 and stderr == ""
