"""``datadiet train``: train one network on a dataset or a subset of it, write metrics and the checkpoint.

Started again with the same ``--out``, a killed run resumes from its last epoch's checkpoint, provided every
setting that changes the result is the same (see :func:`run_identity`); otherwise it is refused, naming the
settings that differ.

Under ``torchrun --nproc_per_node=N`` (or ``torchrun --no-python ... datadiet train ...``) the N processes train
one run together, each on its shard of every epoch (see :mod:`datadiet.training.distributed`); rank 0 writes the
files, and every rank resumes from its checkpoint.
"""

from __future__ import annotations

import argparse
import platform
from typing import TYPE_CHECKING

import datadiet
from datadiet.cli.dynamic_options import add_dynamic_options, dynamic_callback, dynamic_settings
from datadiet.cli.options import (
    add_data_options, add_model_options, add_train_options, build_model, load_data, train_config,
)

if TYPE_CHECKING:
    from datadiet.selection.io import Subset

__all__ = ["add_parser", "run", "run_identity"]

_DATA_SETTINGS = ("dataset", "label_noise", "imbalance", "per_class", "val_fraction", "data_seed")


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
    import torch

    from datadiet.files import atomic_write, atomic_write_npy, check_output_dir, write_json
    from datadiet.selection.io import load_subset
    from datadiet.training import train
    from datadiet.training.distributed import Replicas, init_from_env, is_main_process

    args.device = init_from_env(args.device)  # under torchrun: join the process group, take this rank's GPU
    out = check_output_dir(args.out)
    subset = load_subset(args.subset) if args.subset else None
    splits = load_data(args)
    positions = subset.positions(splits.train) if subset is not None else None
    callback = dynamic_callback(args, splits.train)
    config = train_config(args)
    model = build_model(args, splits.train, args.seed)
    result = train(model, splits.train, config, test_data=splits.test, subset=positions, out_dir=out,
                   device=args.device, callbacks=[callback] if callback else [], identity=run_identity(args, subset))
    if not is_main_process():
        return 0
    state = model.state_dict()
    atomic_write(out / "model.pt", lambda tmp: torch.save(state, tmp))
    if callback is not None:
        counts = callback.pruner.counts.numpy()
        atomic_write_npy(out / "selection_counts.npy", counts)
    write_json(out / "result.json", {
        "metrics": result.metrics, "config": config.to_dict(),
        "model": {"name": args.model, "width": args.width},
        "dataset": {"name": splits.train.name, "num_train": len(splits.train),
                    "label_fingerprint": splits.train.label_fingerprint()},
        "subset": args.subset, "dynamic": _dynamic_record(callback), "datadiet_version": datadiet.__version__,
        "device": str(next(model.parameters()).device), "python": platform.python_version(),
        "torch": torch.__version__, "processes": Replicas.current().world,
    })
    m = result.metrics
    print(f"test accuracy {m['test_accuracy']:.4f} | {m['epochs']} epochs, {m['steps']} steps, "
          f"{m['train_examples']} training examples | {m['total_seconds']:.1f} s | results in {out / 'result.json'}")
    return 0


def run_identity(args: argparse.Namespace, subset: Subset | None) -> dict:
    """The command's settings that change a run's result beyond the trainer's own (which compares the training
    options, the training data's fingerprints and the trained positions): the model and its options, how the
    data was made (dataset, variants, data seed), the subset's content and the dynamic-pruning policy and its
    options."""
    from datadiet.data.dataset import fingerprint

    return {
        "model": args.model, "width": args.width, **{name: getattr(args, name) for name in _DATA_SETTINGS},
        "subset": None if subset is None else fingerprint(subset.indices),
        **dynamic_settings(args),
    }



def _dynamic_record(callback) -> dict | None:
    """The pruner's configuration and selection counts summary, for the result file."""
    if callback is None:
        return None
    pruner = callback.pruner
    return {**pruner.config(), "score_source": callback.score_source, "score_precision": callback.score_precision,
            "checkpoints": pruner.num_checkpoints}
