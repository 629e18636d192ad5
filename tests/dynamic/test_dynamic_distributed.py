"""Two gloo processes: identical selections, disjoint shards whose union is the selection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from datadiet.dynamic import DynamicPruner
from datadiet.dynamic.distributed import shard

WORKER = Path(__file__).with_name("_ddp_worker.py")


def test_two_processes_select_identically(tmp_path):
    outs = [tmp_path / f"rank{r}.json" for r in range(2)]
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(r), "2", str(tmp_path / "init"), str(outs[r])],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for r in range(2)
    ]
    logs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    ranks = [json.loads(out.read_text()) for out in outs]
    assert all(r["score_error"] < 1e-5 for r in ranks)  # sharded, all-gathered scoring pass = full pass
    assert all(r["merged_error"] < 1e-6 for r in ranks)  # per-rank batch losses merged into all N
    assert ranks[0]["counts"] == ranks[1]["counts"]
    for e0, e1 in zip(ranks[0]["epochs"], ranks[1]["epochs"]):
        assert e0["selection"] == e1["selection"]
        assert e0["length"] == e1["length"] == len(e0["shard"]) == len(e1["shard"])
        pool = set(range(101)) if e0["full"] else set(e0["selection"])
        assert set(e0["shard"]) | set(e1["shard"]) == pool
        overlap = set(e0["shard"]) & set(e1["shard"])
        assert len(overlap) == len(pool) % 2  # padding repeats one example when the epoch is odd


def test_shards_without_a_process_group():
    order = torch.arange(11)
    assert shard(order, 2, 0, False).tolist() == [0, 2, 4, 6, 8, 10]
    assert shard(order, 2, 1, False).tolist() == [1, 3, 5, 7, 9, 0]
    assert shard(order, 2, 1, True).tolist() == [1, 3, 5, 7, 9]
    labels = torch.arange(50) % 5
    parts = [DynamicPruner(50, policy="random", keep=0.5, period=1, labels=labels, num_replicas=3, rank=r,
                           drop_last=True) for r in range(3)]
    for p in parts:
        p.set_epoch(1)
    shards = [set(p.epoch_positions().tolist()) for p in parts]
    assert all(len(s) == len(parts[0]) == 8 for s in shards)
    assert not (shards[0] & shards[1]) and not (shards[1] & shards[2]) and not (shards[0] & shards[2])
    assert set.union(*shards) <= set(parts[0].selection.tolist())
