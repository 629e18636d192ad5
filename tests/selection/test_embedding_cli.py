"""``datadiet embed`` and ``datadiet select --embeddings``: the files they write and their one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from datadiet.cli.main import main
from datadiet.scores import ScoreFile, score_runs
from datadiet.selection import kcenter, load_subset, moderate
from datadiet.selection.embedding_file import load_embeddings, save_embeddings
from synthetic import make_blobs

DIGITS = ["--dataset", "digits", "--model", "mlp", "--width", "0.25", "--no-progress"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A score file of the blobs (input norm: no training) and embeddings described for the same labels."""
    folder = tmp_path_factory.mktemp("embedding-cli")
    data = make_blobs(n=60)
    result = score_runs("input_norm", data, lambda seed: torch.nn.Linear(8, 3), at=0, runs=1)
    ScoreFile.from_runs(result, data, model="none", model_kwargs={}).save(folder / "scores.npz")
    embeddings = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    save_embeddings(folder / "emb.npy", embeddings, {"dataset": "blobs", "label_fingerprint": data.label_fingerprint(),
                                                     "layer": "fc"})
    return folder


def select(files: Path, *extra: str) -> int:
    return main(["select", "--scores", str(files / "scores.npz"), "--keep", "0.25", "--out", str(files / "s.npy"),
                 *extra])


def test_select_kcenter_from_an_embedding_file(files: Path) -> None:
    assert select(files, "--rule", "kcenter", "--embeddings", str(files / "emb.npy"), "--seed", "3") == 0
    embeddings, _ = load_embeddings(files / "emb.npy")
    subset = load_subset(files / "s.npy")
    assert np.array_equal(subset.indices, kcenter(embeddings, 0.25, seed=3))
    params = subset.provenance["params"]
    assert params["embeddings"]["shape"] == [60, 5] and params["embeddings"]["layer"] == "fc"
    assert subset.provenance["seed"] == 3


def test_select_moderate_takes_the_score_files_labels(files: Path) -> None:
    assert select(files, "--rule", "moderate", "--embeddings", str(files / "emb.npy"), "--class-balanced") == 0
    labels = ScoreFile.load(files / "scores.npz").labels
    expected = moderate(load_embeddings(files / "emb.npy")[0], 0.25, labels=labels, class_balanced=True)
    assert np.array_equal(load_subset(files / "s.npy").indices, expected)


def bad_files(folder: Path) -> dict[str, Path]:
    np.save(folder / "short.npy", np.zeros((7, 5), dtype=np.float32))
    np.save(folder / "flat.npy", np.zeros(60, dtype=np.float32))
    np.save(folder / "objects.npy", np.array([{"a": 1}] * 60, dtype=object), allow_pickle=True)
    save_embeddings(folder / "other.npy", np.zeros((60, 2)), {"label_fingerprint": "0123456789abcdef"})
    return {p.stem: p for p in folder.glob("*.npy")}


@pytest.mark.parametrize(("extra", "message"), [
    (["--rule", "kcenter"], "rule kcenter selects from embeddings: give --embeddings FILE.npy"),
    (["--rule", "keep_highest", "--embeddings", "{emb}"], "rule keep_highest does not use embeddings"),
    (["--rule", "prototypes", "--embeddings", "{emb}"], "rule prototypes needs --clusters"),
    (["--rule", "herding", "--neighbors", "3", "--embeddings", "{emb}"], "rule herding takes no --neighbors"),
    (["--rule", "herding", "--embeddings", "{short}"], "embeddings have 7 rows but there are 60 examples"),
    (["--rule", "herding", "--embeddings", "{flat}"], r"must be a 2-D array \(N, D\)"),
    (["--rule", "herding", "--embeddings", "{objects}"], "embedding file"),
    (["--rule", "herding", "--embeddings", "{other}"], "with other labels"),
    (["--rule", "herding", "--embeddings", "{missing}"], "does not exist"),
    (["--rule", "d2", "--embeddings", "{emb}", "--neighbors", "0"], r"k \(neighbours per example\)"),
])
def test_bad_embedding_inputs_are_one_line_errors(files: Path, extra: list[str], message: str, capsys) -> None:
    paths = {**bad_files(files), "missing": files / "missing.npy"}
    args = [a.format(**{k: str(v) for k, v in paths.items()}) for a in extra]
    (files / "s.npy").unlink(missing_ok=True)
    assert select(files, *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err
    assert not (files / "s.npy").exists()


def test_embed_writes_the_last_linear_input_with_its_description(tmp_path: Path) -> None:
    out = tmp_path / "emb.npy"
    assert main(["embed", *DIGITS, "--epoch", "0", "--out", str(out)]) == 0
    embeddings, provenance = load_embeddings(out)
    assert embeddings.dtype == np.float32 and embeddings.shape[0] == 1437
    assert provenance["dataset"] == "digits" and provenance["time"] == "epoch 0" and provenance["train_config"] is None
    assert json.loads((tmp_path / "emb.npy.json").read_text())["layer"] == provenance["layer"]


@pytest.mark.parametrize(("extra", "out", "message"), [
    (["--layer", "nope"], "emb.npy", "unknown layer 'nope'; valid: "),
    ([], "emb.txt", "--out must name a .npy embedding file"),
])
def test_embed_errors(tmp_path: Path, extra: list[str], out: str, message: str, capsys) -> None:
    assert main(["embed", *DIGITS, "--epoch", "0", *extra, "--out", str(tmp_path / out)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / out).exists()
