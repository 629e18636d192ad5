"""Tiny recipes (scikit-learn digits, a thin mlp: a run takes well under a second) and a finished experiment.

Tests here train with one torch thread: on a busy 2-core machine, two threads of tiny matrix products spend
their time waiting for each other (100x slower), and one thread keeps results identical across processes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch

from datadiet.experiments import load_recipe, run_sweep
from datadiet.recipes import FOLDER as RECIPES

TINY = """
[experiment]
name = "tiny"
epoch_seconds = 0.1

[base]
budget = "epochs"
epochs = 2
seed = 0

[base.data]
dataset = "digits"
per_class = 20

[base.model]
name = "mlp"
width = 0.25

[base.train]
batch_size = 64

[methods.el2n]
kind = "static"
score = "el2n"
at = 1
runs = 2

[methods.ucb]
kind = "dynamic"
policy = "ucb"
period = 1
warmup_epochs = 0

[plot]
panels = ["accuracy", "wallclock"]

[grid]
seed = [0, 1]
keep = [0.5, 0.8]
method = ["full", "random", "el2n", "ucb"]
"""
"""Two seeds x two fractions of random, EL2N (one shared score set) and UCB, plus full data: 14 runs."""


def _write(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture
def tiny_text() -> str:
    """The TOML text of the tiny recipe."""
    return TINY


@pytest.fixture
def write_recipe():
    """``write_recipe(folder, text=TINY, name="tiny.toml") -> path``."""
    return _write


@pytest.fixture
def recipes() -> Path:
    """The folder of the shipped recipes."""
    return RECIPES


@pytest.fixture(scope="session")
def finished(tmp_path_factory) -> Path:
    """The folder of the tiny experiment, swept to the end once per test session."""
    folder = tmp_path_factory.mktemp("finished")
    experiment = load_recipe(_write(folder))
    with one_thread():
        summary = run_sweep(experiment, folder / "out", progress=False)
    assert not summary.failed, summary.failed
    return folder / "out"
