"""``datadiet train``: train one network on a dataset or a subset of it, write metrics and the checkpoint."""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch

import datadiet
from datadiet.cli.dynamic_options import add_dynamic_options, dynamic_callback
from datadiet.cli.options import (
    add_data_options, add_model_options, add_train_options, build_model, load_data, train_config,
)
from datadiet.selection.io import load_subset
from datadiet.training import train
from datadiet.files import write_json

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a network (optionally on a subset) and report test accuracy and cost",
                       description=__doc__)
    add_data_options(p)
    add_model_options(p)
    add_train_options(p)
    p.add_argument("--subset", metavar="FILE", help="train only on the examples listed in this subset file")
    add_dynamic_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (resumes a run found there)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    splits = load_data(args)
    positions = load_subset(args.subset).positions(splits.train) if args.subset else None
    callback = dynamic_callback(args, splits.train)
    config = train_config(args)
    model = build_model(args, splits.train, args.seed)
    result = train(model, splits.train, config, test_data=splits.test, subset=positions, out_dir=args.out,
                   device=args.device, callbacks=[callback] if callback else [])
    out = Path(args.out)
    torch.save(model.state_dict(), out / "model.pt")
    write_json(out / "result.json", {
        "metrics": result.metrics, "config": config.to_dict(),
        "model": {"name": args.model, "width": args.width},
        "dataset": {"name": splits.train.name, "num_train": len(splits.train),
                    "label_fingerprint": splits.train.label_fingerprint()},
        "subset": args.subset, "dynamic": _dynamic_record(callback), "datadiet_version": datadiet.__version__,
        "device": str(next(model.parameters()).device), "python": platform.python_version(),
        "torch": torch.__version__,
    })
    if callback is not None:
        np.save(out / "selection_counts.npy", callback.pruner.counts.numpy())
    m = result.metrics
    print(f"test accuracy {m['test_accuracy']:.4f} | {m['epochs']} epochs, {m['steps']} steps, "
          f"{m['train_examples']} training examples | {m['total_seconds']:.1f} s | results in {out / 'result.json'}")
    return 0


def _dynamic_record(callback) -> dict | None:
    """The pruner's configuration and selection counts summary, for the result file."""
    if callback is None:
        return None
    pruner = callback.pruner
    return {**pruner.config(), "score_source": callback.score_source, "checkpoints": pruner.num_checkpoints}
