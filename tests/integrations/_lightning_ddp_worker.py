"""Dynamic pruning and forgetting in a Lightning fit with strategy="ddp" on 2 CPU processes (gloo).

Not a test module: ``test_lightning_ddp.py`` runs ``python _lightning_ddp_worker.py FASHION_DIR OUT_DIR SOURCE``;
Lightning starts the second process itself by running the same command. Each rank writes ``OUT_DIR/rank<r>.json``:
per epoch the positions it trained on and the selection, the pruner's counts, its samples, the forgetting scores
of the gathered accumulator, the test accuracy and the optimizer steps.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning.pytorch as L
import torch
from torch.utils.data import DataLoader

from datadiet.data import WithPositions
from datadiet.dynamic import DynamicPruner
from datadiet.integrations.lightning import AccumulatorCallback, DynamicPruningCallback
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting
from lightning_parts import Classifier, accuracy, fashion_subset, make_net, quiet_trainer, tensors

EPOCHS, BATCH_PER_RANK = 4, 50


class Shards(L.Callback):
    """Records, per epoch, the positions this rank trained on and the pruner's selection."""

    def __init__(self, pruner: DynamicPruner) -> None:
        self.pruner, self.epochs = pruner, []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epochs.append({"shard": [], "selection": sorted(self.pruner.selection.tolist()),
                            "full": self.pruner.schedule.is_full(trainer.current_epoch), "length": len(self.pruner)})

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.epochs[-1]["shard"] += batch[0].tolist()


def main(fashion_dir: str, out_dir: str, source: str) -> None:
    torch.set_num_threads(1)
    train, test = fashion_subset(Path(fashion_dir))
    pruner = DynamicPruner(len(train), policy="ucb", keep=0.3, period=1, epochs=EPOCHS, labels=train.y)
    loader = DataLoader(WithPositions(tensors(train)), sampler=pruner, batch_size=BATCH_PER_RANK)
    pruning = DynamicPruningCallback(pruner, score_source=source, score_data=tensors(train))
    counter, shards = ForgettingCounter(len(train)), Shards(pruner)
    module = Classifier(make_net(0), pruner, BATCH_PER_RANK)
    trainer = quiet_trainer(EPOCHS, [pruning, AccumulatorCallback(counter, feed_forgetting), shards],
                            strategy="ddp", devices=2, use_distributed_sampler=False)
    trainer.fit(module, train_dataloaders=loader)
    result = {"rank": trainer.global_rank, "world": trainer.world_size, "epochs": shards.epochs,
              "counts": pruner.counts.tolist(), "samples": pruning.samples_trained,
              "scoring_forward": pruning.scoring_forward, "forgetting": counter.compute().tolist(),
              "accuracy": accuracy(module.net, test), "steps": trainer.global_step,
              "total_steps": pruner.total_steps(BATCH_PER_RANK)}
    (Path(out_dir) / f"rank{trainer.global_rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
