"""One rank of the two-process gloo run in test_dynamic_distributed.py (not a test module itself).

Usage: python _ddp_worker.py RANK WORLD INIT_FILE OUT_JSON
"""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from datadiet.dynamic import DynamicPruner, scoring_pass

N, EPOCHS = 101, 6


def batch_loss(positions: torch.Tensor, epoch: int) -> torch.Tensor:
    """A loss that depends only on (position, epoch), whichever rank computes it."""
    return torch.cos(positions.double() * 0.37 + epoch).float() + 1.0


def main(rank: int, world: int, init_file: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(N, 4, generator=g), torch.arange(N) % 3
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    scores = scoring_pass(model, TensorDataset(x, y), batch_size=16)
    with torch.no_grad():
        score_error = float((scores - F.cross_entropy(model(x), y, reduction="none")).abs().max())
    pruner = DynamicPruner(N, policy="ucb", keep=0.4, period=1, epochs=EPOCHS, labels=y, final_full_epochs=1)
    epochs, merged_error = [], None
    for epoch in range(EPOCHS):
        if epoch == 3:
            pruner.score_all(scoring_pass(model, TensorDataset(x, y), batch_size=16))
        pruner.set_epoch(epoch)
        if epoch == 1:  # the epoch-0 batch losses of both ranks were merged before this selection
            merged_error = float((pruner.tracker.latest - batch_loss(torch.arange(N), 0)).abs().max())
        shard = pruner.epoch_positions()
        pruner.update(shard, batch_loss(shard, epoch))
        epochs.append({"shard": shard.tolist(), "selection": sorted(pruner.selection.tolist()),
                       "length": len(pruner), "full": pruner.schedule.is_full(epoch)})
    result = {"score_error": score_error, "merged_error": merged_error, "epochs": epochs,
              "counts": pruner.counts.tolist()}
    with open(out, "w") as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4])
