"""``datadiet score --save-recordings`` and ``--from-recordings``: recorded scores derived again without training,
equal to scoring directly; every bad input one line with exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from datadiet.cli.main import main
from datadiet.scores import ScoreFile
from datadiet.scores.recording import DynamicsRecording

DATA = ["--dataset", "digits", "--per-class", "20"]
TRAIN = ["--model", "mlp", "--width", "0.25", "--epoch", "3", "--batch-size", "32", "--no-progress"]


def _score(*argv: str) -> None:
    assert main(["score", *argv]) == 0


def _fails_in_one_line(capsys, argv: list[str], expected: str) -> None:
    assert main(["score", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert expected in err, err


def _assert_same_but_created(a: Path, b: Path) -> None:
    left, right = ScoreFile.load(a), ScoreFile.load(b)
    meta_left, meta_right = left.metadata(), right.metadata()
    assert meta_left.pop("created") and meta_right.pop("created")
    assert meta_left == meta_right
    for name in ("runs", "mean", "indices", "labels"):
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), err_msg=name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """Two AUM runs scored on digits, their recordings saved with probabilities in ``recordings/``."""
    folder = tmp_path_factory.mktemp("score")
    _score(*DATA, *TRAIN, "--method", "aum", "--runs", "2", "--save-recordings", str(folder / "recordings"),
           "--keep-probabilities", "--out", str(folder / "aum.npz"))
    return folder


def test_recordings_are_saved_one_per_run_named_by_seed(recorded):
    assert sorted(p.name for p in (recorded / "recordings").iterdir()) == ["seed0.npz", "seed1.npz"]
    recording = DynamicsRecording.load(recorded / "recordings" / "seed1.npz")
    assert recording.provenance["seed"] == 1 and recording.provenance["model"] == "mlp"
    assert recording.provenance["model_kwargs"] == {"width": 0.25} and recording.num_epochs == 3


@pytest.mark.parametrize("method", ["aum", "entropy"])
def test_a_score_derived_from_recordings_equals_scoring_directly(recorded, tmp_path, method):
    direct = recorded / "aum.npz"
    if method != "aum":
        direct = tmp_path / "direct.npz"
        _score(*DATA, *TRAIN, "--method", method, "--runs", "2", "--out", str(direct))
    derived = tmp_path / "derived.npz"
    _score(*DATA, "--method", method, "--from-recordings", str(recorded / "recordings"), "--out", str(derived))
    _assert_same_but_created(direct, derived)


def test_score_options_reach_the_derived_score(recorded, tmp_path):
    files = [str(p) for p in sorted((recorded / "recordings").glob("*.npz"))]
    _score(*DATA, "--method", "tdds", "--window", "3", "--from-recordings", *files, "--out", str(tmp_path / "a.npz"))
    _score(*DATA, "--method", "tdds", "--window", "3", "--decay", "0.5", "--from-recordings", *files,
           "--out", str(tmp_path / "b.npz"))
    a, b = ScoreFile.load(tmp_path / "a.npz"), ScoreFile.load(tmp_path / "b.npz")
    assert a.runs.shape == (2, 200) and np.isfinite(a.runs).all() and not np.array_equal(a.runs, b.runs)


def test_a_score_needing_probabilities_is_refused_from_recordings_without_them(capsys, tmp_path):
    _score(*DATA, *TRAIN, "--method", "least_confidence", "--save-recordings", str(tmp_path / "r"),
           "--out", str(tmp_path / "lc.npz"))
    _fails_in_one_line(capsys, [*DATA, "--method", "entropy", "--from-recordings", str(tmp_path / "r"),
                                "--out", str(tmp_path / "e.npz")],
                       "seed0.npz: entropy needs the probability vectors and this recording has none")


@pytest.mark.parametrize(("argv", "expected"), [
    (["--from-recordings", "{tmp}/missing", "--method", "aum"], "missing do not exist"),
    (["--from-recordings", "{tmp}", "--method", "aum"], "no recordings (.npz files) in"),
    (["--from-recordings", "{rec}", "--method", "aum", "--model", "mlp", "--epochs", "3"],
     "--from-recordings takes the runs' setting from the recordings; drop --model, --epochs"),
    (["--from-recordings", "{rec}", "--method", "el2n"], "derives the recorded scores (aum, "),
    (["--from-recordings", "{rec}", "--method", "aum", "--window", "3"],
     "--method aum takes no --window; its options here: --first-epochs"),
    ([*TRAIN, "--method", "aum", "--keep-probabilities"], "give --save-recordings DIR too"),
    ([*TRAIN, "--method", "el2n", "--save-recordings", "{tmp}/r"], "el2n is not derived from a training-dynamics"),
    ([*TRAIN[2:], "--method", "aum"], "--model is required to train"),
])
def test_bad_input_is_one_line(capsys, recorded, tmp_path, argv, expected):
    argv = [a.format(tmp=tmp_path, rec=recorded / "recordings") for a in argv]
    _fails_in_one_line(capsys, [*DATA, *argv, "--out", str(tmp_path / "out.npz")], expected)
    assert not (tmp_path / "r").exists()


def test_recordings_of_another_dataset_are_refused(capsys, recorded, tmp_path):
    _fails_in_one_line(capsys, ["--dataset", "digits", "--per-class", "10", "--method", "aum", "--from-recordings",
                                str(recorded / "recordings"), "--out", str(tmp_path / "out.npz")],
                       "seed0.npz was recorded on 'digits")


def test_a_score_of_the_data_alone_needs_no_network(tmp_path):
    """``input_norm`` from the command line without --model: the norms of the inputs, one run, no network."""
    from datadiet.data import DataOptions, prepare
    from datadiet.scores import input_norm

    out = tmp_path / "norm.npz"
    _score(*DATA, "--method", "input_norm", "--out", str(out))
    scores = ScoreFile.load(out)
    assert scores.model == "" and scores.runs.shape[0] == 1 and scores.time == "init"
    train = prepare("digits", None, DataOptions(per_class=20)).train
    np.testing.assert_allclose(scores.mean, input_norm(train), rtol=1e-6)
