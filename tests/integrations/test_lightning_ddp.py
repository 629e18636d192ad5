"""Lightning's DDP strategy on 2 CPU processes (gloo): identical selections on both ranks, disjoint shards, the
gathered forgetting counts identical on both ranks, and the run as accurate as one process with the same global
batch (each rank's batch of 50 is half of the single process's batch of 100)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from torch.utils.data import DataLoader

pytest.importorskip("lightning")

from datadiet.data import WithPositions  # noqa: E402
from datadiet.dynamic import DynamicPruner  # noqa: E402
from datadiet.integrations.lightning import DynamicPruningCallback  # noqa: E402
from lightning_parts import Classifier, accuracy, fashion_subset, make_net, quiet_trainer, tensors  # noqa: E402

WORKER = Path(__file__).with_name("_lightning_ddp_worker.py")
EPOCHS, KEPT = 4, 900


def run_ddp(fashion_dir: Path, out: Path, source: str) -> list[dict]:
    path = os.pathsep.join(filter(None, [str(WORKER.parent), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run([sys.executable, str(WORKER), str(fashion_dir), str(out), source], cwd=WORKER.parent,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def check_ranks(ranks: list[dict]) -> None:
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world"] == 2 for r in ranks)
    assert ranks[0]["counts"] == ranks[1]["counts"]
    for e0, e1 in zip(ranks[0]["epochs"], ranks[1]["epochs"]):
        assert e0["selection"] == e1["selection"]
        pool = set(range(3000)) if e0["full"] else set(e0["selection"])
        assert len(pool) == (3000 if e0["full"] else KEPT)
        assert len(e0["shard"]) == len(e1["shard"]) == e0["length"] == len(pool) // 2
        assert not set(e0["shard"]) & set(e1["shard"]) and set(e0["shard"]) | set(e1["shard"]) == pool
    assert ranks[0]["forgetting"] == ranks[1]["forgetting"]  # each rank's counter saw both ranks' batches
    assert all(r["steps"] == r["total_steps"] == 30 + 3 * 9 for r in ranks)  # OneCycleLR sized per rank
    assert ranks[0]["accuracy"] == ranks[1]["accuracy"]


def one_process(train_set, test_set) -> tuple[float, int, np.ndarray]:
    pruner = DynamicPruner(len(train_set), policy="ucb", keep=0.3, period=1, epochs=EPOCHS, labels=train_set.y)
    loader = DataLoader(WithPositions(tensors(train_set)), sampler=pruner, batch_size=100)
    pruning = DynamicPruningCallback(pruner, score_source="batch")
    module = Classifier(make_net(0), pruner, 100)
    quiet_trainer(EPOCHS, [pruning]).fit(module, train_dataloaders=loader)
    return accuracy(module.net, test_set), pruning.samples_trained


def test_ddp_two_processes_prune_identically(fashion_dir, tmp_path):
    ranks = run_ddp(fashion_dir, tmp_path, "batch")
    check_ranks(ranks)
    single_accuracy, single_samples = one_process(*fashion_subset(fashion_dir))
    assert sum(r["samples"] for r in ranks) == single_samples == 3000 + 3 * KEPT
    assert abs(ranks[0]["accuracy"] - single_accuracy) < 0.02
    assert all(r["scoring_forward"] == 0 for r in ranks)


@pytest.mark.slow
def test_ddp_scoring_passes_are_sharded(fashion_dir, tmp_path):
    ranks = run_ddp(fashion_dir, tmp_path, "pass")
    check_ranks(ranks)
    assert all(r["scoring_forward"] == 3 * 1500 for r in ranks)  # each rank scores half of N at 3 checkpoints
