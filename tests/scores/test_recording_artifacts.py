"""Recordings as artifacts: score_runs saves each run's recording, and any recorded score is derived from them again
without retraining, equal to scoring directly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from datadiet.scores import ScoreFile, recorded_scores, recording_name, score_runs
from datadiet.scores.recording import DynamicsRecording
from datadiet.scores.runs import RECORDING_PROVENANCE
from datadiet.training import TrainConfig, trainer_fn
from synthetic import make_blobs

CONFIG = TrainConfig(epochs=10, batch_size=16, lr=0.05, progress=False)


class _Mlp:
    """A model factory that describes its network, as the recordings record it."""

    def __call__(self, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def describe(self) -> tuple[str, dict]:
        return "tiny_mlp", {"hidden": 16}


def _file_content(scores: ScoreFile) -> dict:
    """A saved score file's metadata but its creation time, and its arrays."""
    meta = scores.metadata()
    meta.pop("created")
    arrays = {name: getattr(scores, name) for name in ("runs", "mean", "indices", "labels")}
    return {"meta": meta, **arrays}


def _assert_same_file(a: ScoreFile, b: ScoreFile, tmp_path: Path) -> None:
    a, b = (ScoreFile.load(s.save(tmp_path / f"{i}.npz")) for i, s in enumerate((a, b)))
    left, right = _file_content(a), _file_content(b)
    assert left.pop("meta") == right.pop("meta")
    for name in left:
        np.testing.assert_array_equal(left[name], right[name], err_msg=name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, dict[str, ScoreFile]]:
    """Two runs scored directly with AUM and TDDS, the AUM runs' recordings saved with probabilities."""
    data = make_blobs(n=60, seed=3)
    fn = trainer_fn(data, CONFIG, device="cpu")
    folder = tmp_path_factory.mktemp("recordings")
    direct = {
        "aum": score_runs("aum", data, _Mlp(), fn, at=10, runs=2, seed0=4, progress=False, recordings_dir=folder,
                          keep_probabilities=True),
        "tdds": score_runs("tdds", data, _Mlp(), fn, at=10, runs=2, seed0=4, progress=False, window=4),
    }
    files = {name: ScoreFile.from_runs(runs, data, model="tiny_mlp", model_kwargs={"hidden": 16})
             for name, runs in direct.items()}
    return folder, files


def test_each_run_is_saved_by_seed_with_the_score_files_provenance(recorded):
    folder, _ = recorded
    assert sorted(p.name for p in folder.iterdir()) == [recording_name(4), recording_name(5)]
    data = make_blobs(n=60, seed=3)
    recording = DynamicsRecording.load(folder / "seed5.npz")
    p = recording.provenance
    assert set(p) == set(RECORDING_PROVENANCE)
    assert (p["dataset"], p["num_examples"], p["seed"]) == ("blobs", 60, 5)
    assert (p["time_unit"], p["time_value"]) == ("epoch", 10)
    assert (p["label_fingerprint"], p["input_fingerprint"]) == (data.label_fingerprint(), data.input_fingerprint())
    assert p["train_config"]["seed"] == 5 and p["train_config"]["stop_at"] == 10
    assert (p["model"], p["model_kwargs"]) == ("tiny_mlp", {"hidden": 16})
    assert recording.num_epochs == 10 and recording.probabilities is not None


@pytest.mark.parametrize(("method", "options"), [("aum", {}), ("tdds", {"window": 4})])
def test_derived_from_the_recordings_equals_scoring_directly(recorded, tmp_path, method, options):
    folder, direct = recorded
    paths = sorted(folder.glob("*.npz"), reverse=True)  # any order: runs come back ordered by seed
    derived = ScoreFile.from_recordings(method, paths, make_blobs(n=60, seed=3), **options)
    assert derived.seeds == (4, 5)
    _assert_same_file(direct[method], derived, tmp_path)


def test_every_recorded_score_derives_from_loaded_recordings(recorded):
    folder, _ = recorded
    recordings = [DynamicsRecording.load(p) for p in sorted(folder.glob("*.npz"))]
    for method in recorded_scores():
        options = {"window": 3} if method in ("dyn_unc", "dual", "tdds") else {}
        scores = ScoreFile.from_recordings(method, recordings, make_blobs(n=60, seed=3), **options)
        assert scores.runs.shape == (2, 60) and np.isfinite(scores.runs).all(), method


def test_recordings_keep_only_the_probabilities_their_score_needs_unless_asked(tmp_path):
    data = make_blobs(n=30)
    fn = trainer_fn(data, TrainConfig(epochs=2, batch_size=16, progress=False), device="cpu")
    score_runs("aum", data, _Mlp(), fn, at=2, runs=1, progress=False, recordings_dir=tmp_path / "aum")
    score_runs("entropy", data, _Mlp(), fn, at=2, runs=1, progress=False, recordings_dir=tmp_path / "entropy")
    assert DynamicsRecording.load(tmp_path / "aum" / "seed0.npz").probabilities is None
    assert DynamicsRecording.load(tmp_path / "entropy" / "seed0.npz").probabilities is not None
    with pytest.raises(ValueError, match="seed0.npz: tdds needs the probability vectors and this recording has none"):
        ScoreFile.from_recordings("tdds", [tmp_path / "aum" / "seed0.npz"], data, window=2)


@pytest.mark.parametrize(("data", "message"), [
    (make_blobs(n=59, seed=3), r"seed4.npz was recorded on 'blobs' \(N=60\), not on 'blobs' \(N=59\)"),
    (dataclasses.replace(make_blobs(n=60, seed=3), name="other"), "recorded on 'blobs' .*not on 'other'"),
    (make_blobs(n=60, seed=9), "seed4.npz was recorded on 'blobs' with other inputs than the dataset's"),
])
def test_recordings_of_another_dataset_are_refused_by_name(recorded, data, message):
    folder, _ = recorded
    with pytest.raises(ValueError, match=message):
        ScoreFile.from_recordings("aum", sorted(folder.glob("*.npz")), data)


def test_recordings_of_another_setting_or_a_repeated_seed_are_refused(recorded):
    folder, _ = recorded
    data = make_blobs(n=60, seed=3)
    first, second = (DynamicsRecording.load(p) for p in sorted(folder.glob("*.npz")))
    later = dataclasses.replace(second, provenance={**second.provenance, "time_value": 9})
    with pytest.raises(ValueError, match=r"recordings\[1\]: its run differs from recordings\[0\]'s .*\(time_value\)"):
        ScoreFile.from_recordings("aum", [first, later], data)
    with pytest.raises(ValueError, match=r"recordings\[1\]: a second recording of seed 4"):
        ScoreFile.from_recordings("aum", [first, first], data)
    bare = dataclasses.replace(first, provenance={})
    with pytest.raises(ValueError, match="provenance lacks dataset, .*recordings_dir"):
        ScoreFile.from_recordings("aum", [bare], data)


@pytest.mark.parametrize(("method", "options", "message"), [
    ("forgetting", {}, "forgetting is not derived from a training-dynamics recording; recorded scores: aum"),
    ("el2n", {}, "el2n is not derived"),
    ("bogus", {}, "unknown score 'bogus'"),
    ("aum", {"window": 3}, "score 'aum' takes no option window; its options: epochs"),
])
def test_scores_without_a_recording_and_bad_options_are_refused(recorded, method, options, message):
    folder, _ = recorded
    with pytest.raises(ValueError, match=message):
        ScoreFile.from_recordings(method, sorted(folder.glob("*.npz")), make_blobs(n=60, seed=3), **options)
    with pytest.raises(ValueError, match="no recordings to derive aum from"):
        ScoreFile.from_recordings("aum", [], make_blobs(n=60, seed=3))


def test_saving_recordings_is_refused_before_training_where_there_is_none(tmp_path):
    data = make_blobs(n=30)
    built: list[int] = []

    def make_model(seed: int) -> nn.Module:
        built.append(seed)
        return _Mlp()(seed)

    fn = trainer_fn(data, CONFIG, device="cpu")
    with pytest.raises(ValueError, match="forgetting is not derived from a training-dynamics recording"):
        score_runs("forgetting", data, make_model, fn, at=2, runs=1, progress=False, recordings_dir=tmp_path)
    with pytest.raises(ValueError, match="keep_probabilities is for saved recordings: give recordings_dir too"):
        score_runs("aum", data, make_model, fn, at=2, runs=1, progress=False, keep_probabilities=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot make the recordings folder"):
        score_runs("aum", data, make_model, fn, at=2, runs=1, progress=False, recordings_dir=tmp_path / "file")
    assert built == []
