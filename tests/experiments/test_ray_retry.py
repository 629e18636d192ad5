"""A run whose Ray worker dies is retried and resumes from its checkpoint.

The run's network comes from :func:`mortal_mlp` (named by import path): the first time it trains after the run
has written a checkpoint, it kills its own worker process. Ray retries the task; the new worker resumes the run
from the checkpoint of its first epoch, so the epochs before the crash are not trained again and the result is
bit-identical to the same run trained without interruption.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from torch import nn

from datadiet.experiments import ResultStore, load_recipe, run_sweep
from datadiet.experiments.layout import RUNS_DIR
from datadiet.training.trainer import CHECKPOINT

HERE = __name__  # "test_ray_retry": pytest puts this folder on the module search path
EPOCHS = 3
MARKER = "died"
"""The file whose existence says that a worker has already died once (there is no second death)."""
CALLS = "calls.txt"
"""One line per training forward pass: the process id of the worker that made it."""
WEIGHTS = "weights.pt"
"""The weights of the last evaluation: the final weights (the sweep removes a recorded run's checkpoint)."""

RECIPE = """
[experiment]
name = "retry"
epoch_seconds = 0.1

[base]
budget = "epochs"
epochs = {epochs}
seed = 0

[base.data]
dataset = "digits"
per_class = 20

[base.model]
factory = "{here}:mortal_mlp"
options = {{ folder = "{folder}", watch = "{watch}" }}

[base.train]
batch_size = 64

[grid]
seed = [0]
method = ["full"]
"""


class Mortal(nn.Module):
    """A two-layer perceptron that ends its process on its first training step once a checkpoint exists under
    ``watch`` (unless ``folder`` holds the marker: then it trains normally), logs every training step and keeps
    the weights it is evaluated with."""

    def __init__(self, net: nn.Module, folder: str, watch: str) -> None:
        super().__init__()
        self.net = net
        self.folder, self.watch = Path(folder), Path(watch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            marker = self.folder / MARKER
            if not marker.exists() and any((self.watch / RUNS_DIR).glob(f"*/{CHECKPOINT}")):
                marker.touch()
                os._exit(1)  # the worker dies: no exception, no cleanup, as if its node were lost
            with open(self.folder / CALLS, "a") as calls:
                calls.write(f"{os.getpid()}\n")
        else:
            torch.save(self.net.state_dict(), self.folder / WEIGHTS)
        return self.net(x)


def mortal_mlp(num_classes: int, input_shape: tuple[int, ...], folder: str, watch: str) -> nn.Module:
    net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), 16), nn.ReLU(), nn.Linear(16, num_classes))
    return Mortal(net, folder, watch)


def _sweep(recipe, out: Path, **options) -> tuple[dict, list[dict]]:
    """Sweep ``recipe`` into ``out``; the metrics of its one run and its log, less times."""
    summary = run_sweep(recipe, out, progress=False, **options)
    assert not summary.failed, summary.failed
    with ResultStore(out / "results.sqlite") as store:
        (row,), failures = store.rows(), store.failures()
    assert not failures
    run_dir = out / RUNS_DIR / row.run_id
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == list(range(EPOCHS))  # one line per epoch, none repeated
    return row.metrics, [{k: v for k, v in entry.items() if not k.endswith("seconds")} for entry in log]


def _calls(folder: Path) -> tuple[list[int], dict]:
    """Training steps per process, in the order the processes started, and the final weights; the files are
    removed for the next sweep."""
    pids = (folder / CALLS).read_text().split()
    weights = torch.load(folder / WEIGHTS)
    (folder / CALLS).unlink()
    (folder / WEIGHTS).unlink()
    return [pids.count(pid) for pid in dict.fromkeys(pids)], weights


@pytest.mark.slow  # about 20-25 s on two busy cores: Ray starts, and a worker imports torch twice
def test_a_run_whose_ray_worker_dies_is_retried_and_resumes_from_its_checkpoint(tmp_path):
    ray = pytest.importorskip("ray")
    folder, out = tmp_path / "model", tmp_path / "out"
    folder.mkdir()
    (tmp_path / "retry.toml").write_text(RECIPE.format(epochs=EPOCHS, here=HERE, folder=folder, watch=out))
    recipe = load_recipe(tmp_path / "retry.toml")
    # Ray workers import this module by name; they do not get the driver's search path, so give them this folder.
    path = os.pathsep.join(filter(None, (str(Path(__file__).parent), os.environ.get("PYTHONPATH"))))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        retried, retried_log = _sweep(recipe, out, executor="ray", jobs=1,
                                      executor_options={"cpus": 1, "max_retries": 1})
    finally:
        ray.shutdown()
    assert (folder / MARKER).exists()  # a worker died
    crashed, retried_weights = _calls(folder)

    # The same run (same configuration, same run id) without a crash: the marker is there now.
    uninterrupted, log = _sweep(recipe, tmp_path / "uninterrupted")
    (steps_per_run,), weights = _calls(folder)
    steps_per_epoch = steps_per_run // EPOCHS
    assert steps_per_epoch * EPOCHS == steps_per_run == uninterrupted["steps"]

    # Two workers: the first trained one epoch and died, the second trained the other epochs only.
    assert crashed == [steps_per_epoch, steps_per_run - steps_per_epoch]
    for key in ("epochs", "steps", "samples_seen", "test_accuracy", "test_loss", "train_loss"):
        assert retried[key] == uninterrupted[key], key
    assert retried_log == log
    assert retried_weights.keys() == weights.keys()
    assert all(torch.equal(retried_weights[k], weights[k]) for k in weights)
