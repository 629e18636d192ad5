"""Score files: round trip without pickle, atomic writes, validation, and checks against a dataset."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest
import torch

import datadiet
from datadiet.scores import ScoreFile, ScoreRuns


def _runs(n: int, method: str = "el2n", r: int = 3) -> ScoreRuns:
    rows = np.random.default_rng(0).random((r, n))
    return ScoreRuns(method, rows, tuple(range(7, 7 + r)), "epoch", 20, {"epochs": 200, "lr": 0.1})


def _noisy(blobs):
    y = blobs.y.clone()
    mask = torch.zeros(len(y), dtype=torch.bool)
    mask[:10] = True
    y[:10] = y[:10].roll(1)
    return replace(blobs, y=y, noise_mask=mask, clean_y=blobs.y)


def test_round_trip(blobs, tmp_path):
    data = _noisy(blobs)
    scores = ScoreFile.from_runs(_runs(len(data)), data, model="small_cnn", model_kwargs={"width": 0.5})
    path = scores.save(tmp_path / "s.npz")
    loaded = ScoreFile.load(path)
    for name in ("runs", "indices", "labels", "noise_mask", "clean_labels"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(scores, name))
    np.testing.assert_array_equal(loaded.mean, scores.runs.mean(0))
    assert loaded.metadata() == scores.metadata()
    assert loaded.time == "epoch 20" and loaded.mode == "eval" and loaded.seeds == (7, 8, 9)
    assert loaded.version == datadiet.__version__ and loaded.model_kwargs == {"width": 0.5}
    assert loaded.label_fingerprint == data.label_fingerprint()
    assert loaded.input_fingerprint == data.input_fingerprint()
    loaded.check_against(data)
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["metadata"]))
        assert meta["method"] == "el2n" and meta["num_runs"] == 3 and npz["runs"].dtype == np.float64


def test_forgetting_allows_inf_and_others_do_not(blobs, tmp_path):
    runs = _runs(len(blobs), "forgetting")
    runs.runs[1, 4] = np.inf
    loaded = ScoreFile.load(ScoreFile.from_runs(runs, blobs).save(tmp_path / "f.npz"))
    assert loaded.mean[4] == np.inf and loaded.mode == "train"
    el2n = _runs(len(blobs))
    el2n.runs[0, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        ScoreFile.from_runs(el2n, blobs)
    el2n.runs[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ScoreFile.from_runs(el2n, blobs)


def test_check_against_names_the_difference(blobs):
    scores = ScoreFile.from_runs(_runs(len(blobs)), blobs)
    with pytest.raises(ValueError, match="number of examples"):
        scores.check_against(blobs.subset(np.arange(10)))
    shifted = replace(blobs, index=blobs.index + 1)
    with pytest.raises(ValueError, match="original indices"):
        scores.check_against(shifted)
    with pytest.raises(ValueError, match="labels differ"):
        scores.check_against(_noisy(blobs))


def test_atomic_save_keeps_old_file_on_failure(blobs, tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    ScoreFile.from_runs(_runs(len(blobs)), blobs).save(path)
    before = path.read_bytes()

    def broken(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        ScoreFile.from_runs(_runs(len(blobs), r=1), blobs).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]


def test_load_rejects_pickles_and_inconsistent_files(blobs, tmp_path):
    good = ScoreFile.from_runs(_runs(len(blobs)), blobs)
    with np.load(good.save(tmp_path / "good.npz"), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}

    def write(name: str, **changes) -> str:
        path = tmp_path / name
        with open(path, "wb") as f:
            np.savez(f, **{**arrays, **changes})
        return path

    with pytest.raises(ValueError, match="cannot read"):
        ScoreFile.load(write("pickled.npz", runs=np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError, match="not the mean"):
        ScoreFile.load(write("mean.npz", mean=arrays["mean"] + 1))
    with pytest.raises(ValueError, match="labels.npz: labels must have shape"):
        ScoreFile.load(write("labels.npz", labels=arrays["labels"][:-1]))
    with pytest.raises(ValueError, match="fingerprint"):
        ScoreFile.load(write("relabelled.npz", labels=(arrays["labels"] + 1) % 3))
    meta = json.loads(str(arrays["metadata"]))
    with pytest.raises(ValueError, match="unknown metadata"):
        ScoreFile.load(write("meta.npz", metadata=np.array(json.dumps({**meta, "colour": "red"}))))
    with pytest.raises(ValueError, match="not a datadiet score file"):
        ScoreFile.load(write("format.npz", metadata=np.array(json.dumps({**meta, "format": "other"}))))
    with pytest.raises(ValueError, match="seeds"):
        ScoreFile.load(write("seeds.npz", metadata=np.array(json.dumps({**meta, "seeds": [1]}))))
    with pytest.raises(FileNotFoundError):
        ScoreFile.load(tmp_path / "missing.npz")
    with zipfile.ZipFile(tmp_path / "zip.npz", "w") as z:
        z.writestr("x.txt", "not numpy")
    with pytest.raises(ValueError, match="cannot read"):
        ScoreFile.load(tmp_path / "zip.npz")
    with pytest.raises(ValueError, match=".npz"):
        good.save(tmp_path / "scores.npy")
