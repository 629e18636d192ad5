"""Bad input to every subcommand: exit status 2, one line on stderr naming the problem, no traceback, nothing
written or changed, and (where the input can be checked up front) no training, scoring or sweep started.

Each case is a row: an id, the command line (built from a :class:`Files` of bad and good inputs in a fresh
folder), a fragment the one-line message must contain, and whether the input can be checked before any work.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pytest
import torch

from datadiet.cli.main import COMMANDS, main

DIGITS = ["--dataset", "digits", "--model", "mlp", "--no-progress"]
TRAIN = ["train", *DIGITS, "--epochs", "1"]
SCORE = ["score", *DIGITS, "--method", "el2n", "--epoch", "1"]
VELOCITY = ["dynamics", "velocity", *DIGITS, "--epochs", "2"]
UNWRITABLE = Path("/sys/datadiet-test/out")
"""A place no one may write, root included (sysfs)."""

RECIPE = """
[experiment]
name = "bad-inputs"
epoch_seconds = 0.1

[base]
budget = "epochs"
epochs = 1
seed = 0

[base.data]
dataset = "digits"
per_class = 10

[base.model]
name = "mlp"
width = 0.25

[grid]
seed = [0]
keep = [0.5]
method = ["full", "random"]
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """Good inputs made once: a score file, a subset, a finished run and a finished experiment."""
    folder = tmp_path_factory.mktemp("made")
    torch.set_num_threads(1)
    assert main([*SCORE, "--out", str(folder / "scores.npz")]) == 0
    assert main(["select", "--scores", str(folder / "scores.npz"), "--keep", "0.5", "--out",
                 str(folder / "subset.npy")]) == 0
    assert main([*TRAIN, "--out", str(folder / "run")]) == 0
    (folder / "recipe.toml").write_text(RECIPE)
    assert main(["sweep", str(folder / "recipe.toml"), "--out", str(folder / "exp"), "--no-progress"]) == 0
    return folder


@dataclass
class Files:
    """Inputs in ``root``: copies of the good ones and bad ones made on demand."""

    root: Path
    made: Path

    def path(self, name: str) -> str:
        return str(self.root / name)

    def write(self, name: str, data: bytes | str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(path)

    def folder(self, name: str) -> str:
        (self.root / name).mkdir(parents=True, exist_ok=True)
        return str(self.root / name)

    def file(self) -> str:
        """A regular file, to be given where a folder is expected or put a path below."""
        return self.write("plain.txt", "a file\n")

    def below_file(self, name: str = "out") -> str:
        return str(Path(self.file()) / name)

    def copy(self, name: str) -> str:
        source, target = self.made / name, self.root / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        return str(target)

    def truncated(self, name: str, new: str) -> str:
        data = (self.made / name).read_bytes()
        return self.write(new, data[: len(data) // 2])

    def random(self, name: str) -> str:
        return self.write(name, np.random.default_rng(0).bytes(4096))

    def scores(self, name: str = "edited.npz", **changes) -> str:
        """The good score file with arrays replaced (``metadata`` as a dict is merged into the stored one)."""
        with np.load(self.made / "scores.npz", allow_pickle=False) as npz:
            arrays = dict(npz)
        meta = {**json.loads(str(arrays["metadata"])), **changes.pop("metadata", {})}
        arrays.update(changes, metadata=np.array(json.dumps(meta)))
        with open(self.root / name, "wb") as f:
            np.savez(f, **arrays)
        return str(self.root / name)

    def npy(self, name: str, array: np.ndarray) -> str:
        with open(self.root / name, "wb") as f:
            np.save(f, array, allow_pickle=array.dtype == object)
        return str(self.root / name)

    def dataset(self, name: str = "data.npz", **changes) -> str:
        """A tiny .npz dataset (8 features, 3 classes) with arrays replaced or removed (value None)."""
        rng = np.random.default_rng(0)
        arrays = {"x_train": rng.normal(size=(30, 8)).astype(np.float32), "y_train": np.arange(30) % 3,
                  "x_test": rng.normal(size=(9, 8)).astype(np.float32), "y_test": np.arange(9) % 3}
        arrays = {k: v for k, v in {**arrays, **changes}.items() if v is not None}
        with open(self.root / name, "wb") as f:
            np.savez(f, **arrays)
        return str(self.root / name)

    def image_tree(self) -> str:
        """A class-folder dataset whose first file is not an image."""
        for part in ("train", "test"):
            self.write(f"images/{part}/cat/a.png", "not an image")
        return str(self.root / "images")

    def experiment(self, **files: bytes | str) -> str:
        """A copy of the finished experiment with some of its files replaced."""
        folder = self.copy("exp")
        for name, data in files.items():
            self.write(f"exp/{name.replace('__', '.')}", data)
        return folder

    def zip_without_arrays(self, name: str) -> str:
        with zipfile.ZipFile(self.root / name, "w") as z:
            z.writestr("notes.txt", "not numpy")
        return str(self.root / name)


@dataclass
class Case:
    id: str
    argv: Callable[[Files], list[str]]
    expected: str
    up_front: bool = True
    patch: Callable[[pytest.MonkeyPatch], None] | None = None


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


TRAIN_CASES = [
    Case("unknown dataset", lambda f: ["train", "--dataset", "nope", "--model", "mlp", "--epochs", "1", "--out",
                                       f.path("r")], "valid: cifar10"),
    Case("unknown model", lambda f: ["train", "--dataset", "digits", "--model", "nope", "--epochs", "1", "--out",
                                     f.path("r")], "valid names: basic_cnn"),
    Case("zero epochs", lambda f: ["train", *DIGITS, "--epochs", "0", "--out", f.path("r")], "positive"),
    Case("negative steps", lambda f: ["train", *DIGITS, "--steps", "-3", "--out", f.path("r")], "positive"),
    Case("no budget", lambda f: ["train", *DIGITS, "--out", f.path("r")], "--epochs --steps is required"),
    Case("both budgets", lambda f: [*TRAIN, "--steps", "3", "--out", f.path("r")], "not allowed with"),
    Case("zero batch size", lambda f: [*TRAIN, "--batch-size", "0", "--out", f.path("r")], "positive"),
    Case("lr nan", lambda f: [*TRAIN, "--lr", "nan", "--out", f.path("r")], "finite"),
    Case("lr inf", lambda f: [*TRAIN, "--lr", "inf", "--out", f.path("r")], "finite"),
    Case("lr text", lambda f: [*TRAIN, "--lr", "fast", "--out", f.path("r")], "invalid finite_float value"),
    Case("lr zero", lambda f: [*TRAIN, "--lr", "0", "--out", f.path("r")], "lr > 0"),
    Case("weight decay nan", lambda f: [*TRAIN, "--weight-decay", "nan", "--out", f.path("r")], "finite"),
    Case("width zero", lambda f: [*TRAIN, "--width", "0", "--out", f.path("r")], "positive"),
    Case("width nan", lambda f: [*TRAIN, "--width", "nan", "--out", f.path("r")], "finite"),
    Case("precision bogus", lambda f: [*TRAIN, "--precision", "fp8", "--out", f.path("r")], "invalid choice"),
    Case("fp16 on the cpu", lambda f: [*TRAIN, "--precision", "fp16", "--device", "cpu", "--out", f.path("r")],
         "fp16 needs a CUDA device"),
    Case("augment bogus", lambda f: [*TRAIN, "--augment", "rotate", "--out", f.path("r")], "invalid choice"),
    Case("device bogus", lambda f: [*TRAIN, "--device", "bogus", "--out", f.path("r")], "unknown device 'bogus'"),
    Case("device cuda:99", lambda f: [*TRAIN, "--device", "cuda:99", "--out", f.path("r")], "cuda:99"),
    Case("label noise above 1", lambda f: [*TRAIN, "--label-noise", "1.5", "--out", f.path("r")], "fraction"),
    Case("label noise nan", lambda f: [*TRAIN, "--label-noise", "nan", "--out", f.path("r")], "fraction"),
    Case("val fraction negative", lambda f: [*TRAIN, "--val-fraction", "-0.1", "--out", f.path("r")], "fraction"),
    Case("per class zero", lambda f: [*TRAIN, "--per-class", "0", "--out", f.path("r")], "positive"),
    Case("data seed text", lambda f: [*TRAIN, "--data-seed", "x", "--out", f.path("r")], "invalid int value"),
    Case("missing data dir", lambda f: ["train", "--dataset", "fashion-mnist", "--data-dir", f.path("nowhere"),
                                        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "nowhere"),
    Case("fashion without data dir", lambda f: ["train", "--dataset", "fashion-mnist", "--model", "mlp", "--epochs",
                                                "1", "--out", f.path("r")], "read from files"),
    Case("download offline", lambda f: ["train", "--dataset", "fashion-mnist", "--data-dir", f.folder("fm"),
                                        "--download", "--model", "mlp", "--epochs", "1", "--out", f.path("r")],
         "network is unreachable", patch=_offline),
    Case("cifar archive that is not one", lambda f: [
        "train", "--dataset", "cifar10", "--data-dir", f.write("cifar/cifar-10-python.tar.gz", "not a tar"),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "md5"),
    Case("cifar archive of another name", lambda f: [
        "train", "--dataset", "cifar10", "--data-dir", f.write("cifar/mine.tar", "not a tar"),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "is not a tar archive"),
    Case("folder whose first file is no image", lambda f: [
        "train", "--dataset", "folder", "--data-dir", f.image_tree(), "--model", "mlp", "--epochs", "1",
        "--out", f.path("r")], "is not a readable image"),
    Case("dynamic bogus", lambda f: [*TRAIN, "--dynamic", "bogus", "--keep", "0.3", "--out", f.path("r")],
         "valid: random"),
    Case("dynamic keep above 1", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "1.3", "--out", f.path("r")],
         "keep"),
    Case("keep without dynamic", lambda f: [*TRAIN, "--keep", "0.3", "--out", f.path("r")],
         "--keep only applies with --dynamic"),
    Case("period without dynamic", lambda f: [*TRAIN, "--period", "2", "--out", f.path("r")],
         "--period only applies with --dynamic"),
    Case("score source without dynamic", lambda f: [*TRAIN, "--score-source", "batch", "--out", f.path("r")],
         "--score-source only applies"),
    Case("score source bogus", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "0.3", "--score-source", "half",
                                          "--out", f.path("r")], "invalid choice"),
    Case("score precision without dynamic", lambda f: [*TRAIN, "--score-precision", "bf16", "--out", f.path("r")],
         "--score-precision only applies"),
    Case("score precision bogus", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "0.3", "--score-precision",
                                             "fp16", "--out", f.path("r")], "invalid choice"),
    Case("paper-faithful without dynamic", lambda f: [*TRAIN, "--paper-faithful", "--out", f.path("r")],
         "--paper-faithful only applies"),
    Case("policy options not JSON", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "0.3", "--policy-options",
                                               "{c: 1", "--out", f.path("r")], "not valid JSON"),
    Case("policy options not an object", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "0.3",
                                                    "--policy-options", "[1]", "--out", f.path("r")], "JSON object"),
    Case("infobatch with keep", lambda f: [*TRAIN, "--dynamic", "infobatch", "--keep", "0.3", "--out", f.path("r")],
         "leave keep unset"),
    Case("infobatch paper-faithful", lambda f: [*TRAIN, "--dynamic", "infobatch", "--paper-faithful", "--out",
                                                f.path("r")], "drop --paper-faithful"),
    Case("infobatch final phase twice", lambda f: [*TRAIN, "--dynamic", "infobatch", "--final-full-epochs", "1",
                                                   "--policy-options", '{"delta": 0.2}', "--out", f.path("r")],
         "--final-full-epochs and --policy-options delta"),
    Case("dynamic with steps", lambda f: ["train", *DIGITS, "--steps", "5", "--dynamic", "ucb", "--keep", "0.3",
                                          "--out", f.path("r")], "use --epochs"),
    Case("dynamic with a subset", lambda f: [*TRAIN, "--dynamic", "ucb", "--keep", "0.3", "--subset",
                                             f.copy("subset.npy"), "--out", f.path("r")], "cannot be combined"),
    Case("out is a file", lambda f: [*TRAIN, "--out", f.file()], "is a file, not a folder"),
    Case("out below a file", lambda f: [*TRAIN, "--out", f.below_file()], "is a file, not a folder"),
    Case("out unwritable", lambda f: [*TRAIN, "--out", str(UNWRITABLE)], "not writable"),
    Case("subset missing", lambda f: [*TRAIN, "--subset", f.path("none.npy"), "--out", f.path("r")],
         "does not exist"),
    Case("subset is a folder", lambda f: [*TRAIN, "--subset", f.folder("sub.npy"), "--out", f.path("r")],
         "is a folder"),
    Case("subset empty file", lambda f: [*TRAIN, "--subset", f.write("e.npy", b""), "--out", f.path("r")], "empty"),
    Case("subset random bytes", lambda f: [*TRAIN, "--subset", f.random("r.npy"), "--out", f.path("r")],
         "not a NumPy .npy file"),
    Case("subset is CSV", lambda f: [*TRAIN, "--subset", f.write("s.npy", "1,2,3\n"), "--out", f.path("r")],
         "not a NumPy .npy file"),
    Case("subset truncated", lambda f: [*TRAIN, "--subset", f.truncated("subset.npy", "t.npy"), "--out",
                                        f.path("r")], "damaged or truncated"),
    Case("subset is an npz", lambda f: [*TRAIN, "--subset", f.copy("scores.npz"), "--out", f.path("r")],
         "zip archive"),
    Case("subset of objects", lambda f: [*TRAIN, "--subset", f.npy("o.npy", np.array([1, None], dtype=object)),
                                         "--out", f.path("r")], "without pickle"),
    Case("subset repeats", lambda f: [*TRAIN, "--subset", f.npy("d.npy", np.array([0, 5, 5])), "--out",
                                      f.path("r")], "more than once"),
    Case("subset negative", lambda f: [*TRAIN, "--subset", f.npy("n.npy", np.array([-1, 2])), "--out",
                                       f.path("r")], "negative"),
    Case("subset outside", lambda f: [*TRAIN, "--subset", f.npy("o.npy", np.array([0, 100000])), "--out",
                                      f.path("r")], "not examples"),
    Case("subset of floats", lambda f: [*TRAIN, "--subset", f.npy("f.npy", np.array([0.0, 1.0])), "--out",
                                        f.path("r")], "integer"),
    Case("subset text with floats", lambda f: [*TRAIN, "--subset", f.write("s.txt", "1\n2.5\n"), "--out",
                                               f.path("r")], "cannot read"),
    Case("subset sidecar damaged", lambda f: [*TRAIN, "--subset", f.npy("s.npy", np.array([0, 1])) and
                                              f.write("s.npy.json", "{") and f.path("s.npy"), "--out", f.path("r")],
         "not valid JSON"),
    Case("subset of other labels", lambda f: [*TRAIN, "--label-noise", "0.2", "--subset", f.copy("subset.npy") and
                                              f.copy("subset.npy.json") and f.path("subset.npy"), "--out",
                                              f.path("r")], "label fingerprint"),
    Case("npz dataset missing", lambda f: ["train", "--dataset", "npz", "--data-dir", f.path("none.npz"), "--model",
                                           "mlp", "--epochs", "1", "--out", f.path("r")], "none.npz"),
    Case("npz dataset empty", lambda f: ["train", "--dataset", "npz", "--data-dir", f.write("e.npz", b""),
                                         "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "empty"),
    Case("npz dataset truncated", lambda f: ["train", "--dataset", "npz", "--data-dir",
                                             f.write("t.npz", Path(f.dataset()).read_bytes()[:300]), "--model",
                                             "mlp", "--epochs", "1", "--out", f.path("r")], "t.npz"),
    Case("npz dataset is text", lambda f: ["train", "--dataset", "npz", "--data-dir", f.write("c.npz", "a,b\n1,2\n"),
                                           "--model", "mlp", "--epochs", "1", "--out", f.path("r")],
         "not a NumPy .npz file"),
    Case("npz dataset lacks an array", lambda f: ["train", "--dataset", "npz", "--data-dir",
                                                  f.dataset(y_test=None), "--model", "mlp", "--epochs", "1",
                                                  "--out", f.path("r")], "lacks ['y_test']"),
    Case("npz dataset with NaN inputs", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(x_train=np.full((30, 8), np.nan, np.float32)),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "NaN or infinite"),
    Case("npz dataset with infinite inputs", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(x_test=np.full((9, 8), np.inf)),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "NaN or infinite"),
    Case("npz dataset with complex inputs", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(x_train=np.ones((30, 8), np.complex64)),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "real numbers"),
    Case("npz dataset with text inputs", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(x_train=np.full((30, 8), "a")),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "real numbers"),
    Case("npz dataset with float labels", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(y_train=np.arange(30) % 3 + 0.5),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "1-D integer array"),
    Case("npz dataset with too few labels", lambda f: [
        "train", "--dataset", "npz", "--data-dir", f.dataset(y_train=np.arange(20) % 3),
        "--model", "mlp", "--epochs", "1", "--out", f.path("r")], "30 inputs but 20 labels"),
    Case("checkpoint damaged", lambda f: [*TRAIN, "--out", f.copy("run") and
                                          f.write("run/checkpoint.pt", b"garbage") and f.path("run")], "damaged"),
    Case("checkpoint empty", lambda f: [*TRAIN, "--out", f.copy("run") and f.write("run/checkpoint.pt", b"") and
                                        f.path("run")], "damaged"),
    Case("checkpoint truncated", lambda f: [*TRAIN, "--out", f.copy("run") and
                                            f.truncated("run/checkpoint.pt", "run/checkpoint.pt") and f.path("run")],
         "damaged"),
    Case("checkpoint of another model", lambda f: ["train", "--dataset", "digits", "--model", "small_cnn",
                                                   "--no-progress", "--epochs", "1", "--out", f.copy("run")],
         "model: saved mlp, now small_cnn"),
    Case("diverging run", lambda f: [*TRAIN, "--lr", "1e30", "--out", f.path("r")], "lower the learning rate",
         up_front=False),
]

SCORE_CASES = [
    Case("score unknown method", lambda f: ["score", *DIGITS, "--method", "bogus", "--epoch", "1", "--out",
                                            f.path("s.npz")], "valid:"),
    Case("score out not npz", lambda f: [*SCORE, "--out", f.path("s.csv")], "must name a .npz"),
    Case("score out is a folder", lambda f: [*SCORE, "--out", f.folder("s.npz")], "is a folder"),
    Case("score out below a file", lambda f: [*SCORE, "--out", f.below_file("s.npz")], "is a file, not a folder"),
    Case("score out unwritable", lambda f: [*SCORE, "--out", str(UNWRITABLE / "s.npz")], "not writable"),
    Case("score negative time", lambda f: ["score", *DIGITS, "--method", "el2n", "--epoch", "-1", "--out",
                                           f.path("s.npz")], ">= 0"),
    Case("score no time", lambda f: ["score", *DIGITS, "--method", "el2n", "--out", f.path("s.npz")],
         "give a time point"),
    Case("score mixed units", lambda f: [*SCORE, "--steps", "10", "--out", f.path("s.npz")], "same unit"),
    Case("score option of another score", lambda f: [*SCORE, "--window", "3", "--out", f.path("s.npz")],
         "takes no --window"),
    Case("score batchnorm of another score", lambda f: [*SCORE, "--batchnorm", "batch", "--out", f.path("s.npz")],
         "takes no --batchnorm"),
    Case("score probabilities without saving", lambda f: [*SCORE, "--keep-probabilities", "--out",
                                                          f.path("s.npz")], "--save-recordings"),
    Case("score recordings into a file", lambda f: ["score", *DIGITS, "--method", "aum", "--epoch", "2",
                                                    "--save-recordings", f.file(), "--out", f.path("s.npz")],
         "is a file, not a folder"),
    Case("score from missing recordings", lambda f: ["score", "--dataset", "digits", "--method", "aum",
                                                     "--from-recordings", f.path("none"), "--out", f.path("s.npz")],
         "do not exist"),
    Case("score from recordings with training options", lambda f: [
        "score", "--dataset", "digits", "--method", "aum", "--epochs", "3", "--from-recordings", f.folder("rec"),
        "--out", f.path("s.npz")], "drop --epochs"),
    Case("score of the data with a network", lambda f: ["score", *DIGITS, "--method", "input_norm", "--out",
                                                        f.path("s.npz")], "drop --model"),
    Case("score device bogus", lambda f: [*SCORE, "--device", "tpu9", "--out", f.path("s.npz")], "unknown device"),
    Case("score lr nan", lambda f: [*SCORE, "--lr", "nan", "--out", f.path("s.npz")], "finite"),
]

EMBED = ["embed", *DIGITS, "--epoch", "0", "--out"]

EMBED_CASES = [
    Case("embed out not npy", lambda f: [*EMBED, f.path("e.csv")], "must name a .npy"),
    Case("embed out is a folder", lambda f: [*EMBED, f.folder("e.npy")], "is a folder"),
    Case("embed no time", lambda f: ["embed", *DIGITS, "--out", f.path("e.npy")], "give a time point"),
    Case("embed unknown layer", lambda f: ["embed", *DIGITS, "--epoch", "1", "--layer", "nope", "--out",
                                           f.path("e.npy")], "unknown layer 'nope'"),
]

SELECT = ["select", "--keep", "0.5", "--out"]


def _select(scores: Callable[[Files], str], *extra: str, out: str = "s.npy") -> Callable[[Files], list[str]]:
    return lambda f: ["select", "--scores", scores(f), "--keep", "0.5", *extra, "--out", f.path(out)]


SELECT_CASES = [
    Case("select scores missing", _select(lambda f: f.path("none.npz")), "does not exist"),
    Case("select scores is a folder", _select(lambda f: f.folder("d.npz")), "is a folder"),
    Case("select scores empty", _select(lambda f: f.write("e.npz", b"")), "empty"),
    Case("select scores random bytes", _select(lambda f: f.random("r.npz")), "not a NumPy .npz file"),
    Case("select scores CSV", _select(lambda f: f.write("c.npz", "id,score\n1,0.5\n")), "not a NumPy .npz file"),
    Case("select scores truncated", _select(lambda f: f.truncated("scores.npz", "t.npz")), "t.npz"),
    Case("select scores is an npy", _select(lambda f: f.copy("subset.npy")), "single .npy array"),
    Case("select scores zip of text", _select(lambda f: f.zip_without_arrays("z.npz")), "not NumPy arrays"),
    Case("select scores of objects", _select(lambda f: f.scores(runs=np.array([[{"a": 1}]], dtype=object))),
         "without pickle"),
    Case("select method of wrong type", _select(lambda f: f.scores(metadata={"method": 5})), "method (int)"),
    Case("select seeds of wrong type", _select(lambda f: f.scores(metadata={"seeds": "0"})), "seeds (str)"),
    Case("select unknown metadata", _select(lambda f: f.scores(metadata={"colour": "red"})), "unknown metadata"),
    Case("select other format", _select(lambda f: f.scores(metadata={"format": "x"})), "not a datadiet score file"),
    Case("select NaN scores", _select(lambda f: f.scores(runs=np.full((1, 1437), np.nan), mean=np.full(1437, np.nan))),
         "NaN"),
    Case("select short scores", _select(lambda f: f.scores(runs=np.zeros((1, 5)), mean=np.zeros(5))),
         "must have shape"),
    Case("select wrong mean", _select(lambda f: f.scores(mean=np.zeros(1437) + 7)), "not the mean"),
    Case("select keep zero", lambda f: ["select", "--scores", f.copy("scores.npz"), "--keep", "0", "--out",
                                        f.path("s.npy")], "keep"),
    Case("select keep above 1", lambda f: ["select", "--scores", f.copy("scores.npz"), "--keep", "1.5", "--out",
                                           f.path("s.npy")], "keep"),
    Case("select unknown rule", _select(lambda f: f.copy("scores.npz"), "--rule", "top"), "invalid choice"),
    Case("select contradicting rule", _select(lambda f: f.copy("scores.npz"), "--rule", "keep_lowest", "--offset",
                                              "0.1"), "contradicts"),
    Case("select strata without ccs", _select(lambda f: f.copy("scores.npz"), "--strata", "4"), "takes no --strata"),
    Case("select out not npy", _select(lambda f: f.copy("scores.npz"), out="s.csv"), "must name a .npy"),
    Case("select out is a folder", lambda f: ["select", "--scores", f.copy("scores.npz"), "--keep", "0.5", "--out",
                                              f.folder("s.npy")], "is a folder"),
    Case("select out below a file", lambda f: ["select", "--scores", f.copy("scores.npz"), "--keep", "0.5",
                                               "--out", f.below_file("s.npy")], "is a file, not a folder"),
    Case("select out unwritable", lambda f: ["select", "--scores", f.copy("scores.npz"), "--keep", "0.5", "--out",
                                             str(UNWRITABLE / "s.npy")], "not writable"),
]

COMPARE_CASES = [
    Case("compare one file", lambda f: ["compare", f.copy("scores.npz")], "at least two"),
    Case("compare missing file", lambda f: ["compare", f.copy("scores.npz"), f.path("none.npz")], "does not exist"),
    Case("compare empty file", lambda f: ["compare", f.copy("scores.npz"), f.write("e.npz", b"")], "empty"),
    Case("compare truncated file", lambda f: ["compare", f.copy("scores.npz"), f.truncated("scores.npz", "t.npz")],
         "t.npz"),
    Case("compare other examples", lambda f: ["compare", f.copy("scores.npz"), f.scores(
        "short.npz", runs=np.zeros((1, 1436)), mean=np.zeros(1436), indices=np.arange(1436),
        labels=np.zeros(1436, np.int64))], "fingerprint"),
    Case("compare plot bad format", lambda f: ["compare", f.copy("scores.npz"), f.scores(), "--plot",
                                               f.path("m.xyz")], "figure file ending in"),
    Case("compare plot is a folder", lambda f: ["compare", f.copy("scores.npz"), f.scores(), "--plot",
                                                f.folder("m.png")], "is a folder"),
    Case("compare plot below a file", lambda f: ["compare", f.copy("scores.npz"), f.scores(), "--plot",
                                                 f.below_file("m.png")], "is a file, not a folder"),
]

NOISE_CASES = [
    Case("noise report without noise", lambda f: ["noise-report", f.copy("scores.npz")], "no noise mask"),
    Case("noise report missing", lambda f: ["noise-report", f.path("none.npz")], "does not exist"),
    Case("noise report folder", lambda f: ["noise-report", f.folder("d.npz")], "is a folder"),
    Case("noise report empty", lambda f: ["noise-report", f.write("e.npz", b"")], "empty"),
    Case("noise report random bytes", lambda f: ["noise-report", f.random("r.npz")], "not a NumPy .npz file"),
    Case("noise report truncated", lambda f: ["noise-report", f.truncated("scores.npz", "t.npz")], "t.npz"),
    Case("noise report plot bad format", lambda f: ["noise-report", f.copy("scores.npz"), "--plot",
                                                    f.path("h.txt2")], "figure file ending in"),
    Case("noise report plot unwritable", lambda f: ["noise-report", f.copy("scores.npz"), "--plot",
                                                    str(UNWRITABLE / "h.png")], "not writable"),
]

DYNAMICS_CASES = [
    Case("velocity score runs without independent", lambda f: [*VELOCITY, "--score-runs", "2", "--out", f.path("v")],
         "--score-runs is for --scores-from independent"),
    Case("velocity score of no network", lambda f: [*VELOCITY, "--score", "forgetting", "--out", f.path("v")],
         "not computed from one network's weights"),
    Case("velocity score unknown", lambda f: [*VELOCITY, "--score", "el3n", "--out", f.path("v")], "unknown score"),
    Case("velocity in steps", lambda f: ["dynamics", "velocity", *DIGITS, "--steps", "5", "--out", f.path("v")],
         "give --epochs"),
    Case("velocity tracks too long", lambda f: [*VELOCITY, "--track-epochs", "3", "--out", f.path("v")],
         "--track-epochs"),
    Case("velocity noise list bad", lambda f: [*VELOCITY, "--noise-levels", "0,x", "--out", f.path("v")],
         "comma-separated list"),
    Case("velocity out is a file", lambda f: [*VELOCITY, "--out", f.file()], "is a file, not a folder"),
    Case("barrier out below a file", lambda f: ["dynamics", "barrier", *DIGITS, "--epochs", "2", "--spawn-epochs",
                                                "0,1", "--out", f.below_file()], "is a file, not a folder"),
    Case("barrier device bogus", lambda f: ["dynamics", "barrier", *DIGITS, "--epochs", "2", "--spawn-epochs",
                                            "0,1", "--device", "gpu", "--out", f.path("b")], "unknown device"),
    Case("barrier one alpha", lambda f: ["dynamics", "barrier", *DIGITS, "--epochs", "2", "--spawn-epochs", "0,1",
                                         "--alphas", "1", "--out", f.path("b")], "at least 2 points"),
]

SWEEP_CASES = [
    Case("sweep unknown recipe", lambda f: ["sweep", "no_such_recipe", "--out", f.path("e")], "no_such_recipe"),
    Case("sweep recipe syntax", lambda f: ["sweep", f.write("r.toml", "[base\nx = = 1\n"), "--out", f.path("e")],
         "r.toml"),
    Case("sweep unknown preset", lambda f: ["sweep", f.write("r.toml", RECIPE), "--preset", "huge", "--out",
                                            f.path("e")], "huge"),
    Case("sweep out is a file", lambda f: ["sweep", f.write("r.toml", RECIPE), "--out", f.file(), "--no-progress"],
         "is a file, not a folder"),
    Case("sweep out below a file", lambda f: ["sweep", f.write("r.toml", RECIPE), "--out", f.below_file(),
                                              "--no-progress"], "is a file, not a folder"),
    Case("sweep out unwritable", lambda f: ["sweep", f.write("r.toml", RECIPE), "--out", str(UNWRITABLE),
                                            "--no-progress"], "not writable"),
    Case("sweep damaged experiment record", lambda f: ["sweep", f.write("r.toml", RECIPE), "--out",
                                                       f.experiment(experiment__json="{"), "--no-progress"],
         "experiment.json is damaged"),
    Case("sweep damaged store", lambda f: ["sweep", f.write("r.toml", RECIPE), "--out",
                                           f.experiment(results__sqlite=b"garbage" * 100), "--no-progress"],
         "not an SQLite database"),
    Case("sweep another experiment", lambda f: ["sweep", f.write("r.toml", RECIPE.replace("bad-inputs", "other")),
                                                "--out", f.experiment(), "--no-progress"], "holds experiment"),
    Case("sweep data dir for built-in data", lambda f: ["sweep", f.write("r.toml", RECIPE), "--data-dir",
                                                        f.folder("data"), "--out", f.path("e")],
         "not read from files"),
    Case("sweep jobs zero", lambda f: ["sweep", f.write("r.toml", RECIPE), "--jobs", "0", "--out", f.path("e")],
         "positive"),
    Case("sweep device bogus", lambda f: ["sweep", f.write("r.toml", RECIPE), "--device", "cuda:x", "--out",
                                          f.path("e")], "unknown device"),
    Case("sweep executor bogus", lambda f: ["sweep", f.write("r.toml", RECIPE), "--executor", "slurm", "--out",
                                            f.path("e")], "invalid choice"),
    Case("sweep ray cpus not a number", lambda f: ["sweep", f.write("r.toml", RECIPE), "--executor", "ray",
                                                   "--ray-cpus", "nan", "--out", f.path("e")], "finite number"),
    Case("sweep ray gpus negative", lambda f: ["sweep", f.write("r.toml", RECIPE), "--executor", "ray",
                                               "--ray-gpus", "-1", "--out", f.path("e")], ">= 0"),
]

PLOT_CASES = [
    Case("plot missing folder", lambda f: ["plot", f.path("none")], "does not exist"),
    Case("plot folder without record", lambda f: ["plot", f.folder("empty")], "experiment.json does not exist"),
    Case("plot damaged record", lambda f: ["plot", f.experiment(experiment__json="{")], "experiment.json is damaged"),
    Case("plot record not an experiment", lambda f: ["plot", f.experiment(experiment__json="[1]")],
         "not a datadiet experiment record"),
    Case("plot empty store", lambda f: ["plot", f.experiment(results__sqlite=b"")], "is empty"),
    Case("plot damaged store", lambda f: ["plot", f.experiment(results__sqlite="id,acc\n1,0.9\n")],
         "not an SQLite database"),
    Case("plot out is a file", lambda f: ["plot", f.experiment(), "--out", f.file()], "is a file, not a folder"),
    Case("plot out unwritable", lambda f: ["plot", f.experiment(), "--out", str(UNWRITABLE)], "not writable"),
]

REPORT_CASES = [
    Case("report missing folder", lambda f: ["report", f.path("none")], "does not exist"),
    Case("report damaged record", lambda f: ["report", f.experiment(experiment__json="not json")], "is damaged"),
    Case("report empty store", lambda f: ["report", f.experiment(results__sqlite=b"")], "is empty"),
    Case("report output is a folder", lambda f: ["report", f.experiment(), "--output", f.folder("r.html")],
         "is a folder"),
    Case("report output below a file", lambda f: ["report", f.experiment(), "--output", f.below_file("r.html")],
         "is a file, not a folder"),
]

EXPORT_CASES = [
    Case("export missing folder", lambda f: ["export", f.path("none")], "does not exist"),
    Case("export empty store", lambda f: ["export", f.experiment(results__sqlite=b"")], "is empty"),
    Case("export damaged store", lambda f: ["export", f.experiment(results__sqlite=b"\0" * 2048)],
         "not an SQLite database"),
    Case("export store without runs", lambda f: ["export", f.experiment() and _empty_sqlite(f)], "no table of runs"),
    Case("export format bogus", lambda f: ["export", f.experiment(), "--format", "xlsx"], "invalid choice"),
    Case("export output is a folder", lambda f: ["export", f.experiment(), "--output", f.folder("t.csv")],
         "is a folder"),
    Case("export output below a file", lambda f: ["export", f.experiment(), "--output", f.below_file("t.csv")],
         "is a file, not a folder"),
    Case("export output unwritable", lambda f: ["export", f.experiment(), "--output", str(UNWRITABLE / "t.csv")],
         "not writable"),
]

LIST_CASES = [
    Case("list bogus", lambda f: ["list", "everything"], "invalid choice"),
    Case("list nothing", lambda f: ["list"], "required"),
]

RECIPES_CASES = [
    Case("recipes show unknown", lambda f: ["recipes", "show", "nope"], "nope"),
    Case("recipes copy unknown", lambda f: ["recipes", "copy", "nope", f.path("c.toml")], "nope"),
    Case("recipes copy onto a file", lambda f: ["recipes", "copy", "paper2_fig2", f.file()], "exists"),
    Case("recipes copy below a missing folder", lambda f: ["recipes", "copy", "paper2_fig2", f.path("a/b.toml")],
         "does not exist"),
    Case("recipes bogus action", lambda f: ["recipes", "delete"], "invalid choice"),
]

DEMO_CASES = [
    Case("demo keep zero", lambda f: ["demo", "--keep", "0"], "--keep"),
    Case("demo no epochs", lambda f: ["demo", "--epochs", "0"], "positive"),
    Case("demo device bogus", lambda f: ["demo", "--device", "bogus"], "unknown device"),
    Case("unknown command", lambda f: ["nonsense"], "invalid choice"),
]


def _empty_sqlite(f: Files) -> str:
    """The experiment copy with a results database that holds no runs table."""
    import sqlite3

    path = f.root / "exp" / "results.sqlite"
    path.unlink()
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    return str(f.root / "exp")


BY_COMMAND = {
    "train": TRAIN_CASES, "score": SCORE_CASES, "embed": EMBED_CASES, "select": SELECT_CASES, "compare": COMPARE_CASES,
    "noise-report": NOISE_CASES, "dynamics": DYNAMICS_CASES, "sweep": SWEEP_CASES, "plot": PLOT_CASES,
    "report": REPORT_CASES, "export": EXPORT_CASES, "list": LIST_CASES, "recipes": RECIPES_CASES, "demo": DEMO_CASES,
}
CASES = [case for cases in BY_COMMAND.values() for case in cases]


def _snapshot(*folders: Path) -> dict[str, tuple[int, int, str]]:
    """Every file below ``folders``: size, modification time and content hash."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                found[str(path)] = (stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            elif path.is_dir():
                found[str(path)] = (0, 0, "folder")
    return found


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make training, scoring and a sweep's runs fail loudly (an AssertionError is never a one-line error)."""
    def refuse(*args, **kwargs):
        raise AssertionError("work started before the bad input was refused")

    monkeypatch.setattr("datadiet.training.trainer._Run.fit", refuse)
    monkeypatch.setattr("datadiet.experiments.driver.Driver.run", refuse)
    monkeypatch.setattr("datadiet.scores.score_runs", refuse)  # the commands import it when they run


def test_the_table_covers_every_subcommand_with_over_100_cases():
    assert set(BY_COMMAND) == set(COMMANDS)
    assert all(len(cases) >= 2 for cases in BY_COMMAND.values())
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, made: Path, tmp_path: Path, capsys, monkeypatch):
    files = Files(tmp_path / "work", made)
    files.root.mkdir()
    argv = case.argv(files)
    if case.up_front:
        _no_work(monkeypatch)
    if case.patch is not None:
        case.patch(monkeypatch)
    monkeypatch.delenv("DATADIET_DEBUG", raising=False)
    capsys.readouterr()
    before = _snapshot(files.root, made)
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert case.expected in err, err
    assert _snapshot(files.root, made) == before
