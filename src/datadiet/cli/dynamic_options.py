"""Command-line options of dynamic data pruning (``datadiet train --dynamic POLICY``)."""

from __future__ import annotations

import argparse
import json

from datadiet.data.dataset import IndexedDataset
from datadiet.dynamic import PAPER_OPTIONS, POLICIES, DynamicPruner
from datadiet.training.dynamic_pruning import SCORE_SOURCES, DynamicPruningCallback

__all__ = ["add_dynamic_options", "dynamic_callback"]


def add_dynamic_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("dynamic pruning (re-select the training subset during training)")
    g.add_argument("--dynamic", metavar="POLICY", help=f"one of: {', '.join(POLICIES)}")
    g.add_argument("--keep", type=float, help="fraction of examples trained on per epoch (not for infobatch)")
    g.add_argument("--period", type=int, default=10, help="epochs between re-selections (T_p; paper: 10)")
    g.add_argument("--score-source", choices=SCORE_SOURCES, default="pass",
                   help="pass: a scoring pass over all data at each checkpoint (the paper); batch: training losses")
    g.add_argument("--policy-options", metavar="JSON", default="{}",
                   help='policy hyper-parameters, e.g. \'{"alpha": 0.8, "c": 1.0}\'')
    g.add_argument("--paper-faithful", action="store_true",
                   help="the paper's Algorithm 1 exactly: no warm-up, one global ranking (may collapse on short runs)")
    g.add_argument("--warmup-epochs", type=int, help="epochs on all data before the first selection (default 1)")
    g.add_argument("--final-full-epochs", type=int, help="epochs on all data at the end")


def dynamic_callback(args: argparse.Namespace, data: IndexedDataset) -> DynamicPruningCallback | None:
    """The pruning callback the options describe, or None without ``--dynamic``."""
    if args.dynamic is None:
        return None
    if args.epochs is None:
        raise ValueError("dynamic pruning trains for a number of epochs: use --epochs, not --steps")
    if args.subset:
        raise ValueError("--dynamic selects from the whole training set; it cannot be combined with --subset")
    try:
        policy_options = json.loads(args.policy_options)
    except json.JSONDecodeError as error:
        raise ValueError(f"--policy-options is not valid JSON: {error}") from None
    if not isinstance(policy_options, dict):
        raise ValueError('--policy-options must be a JSON object, e.g. \'{"c": 1.0}\'')
    options = dict(PAPER_OPTIONS) if args.paper_faithful else {}
    if args.warmup_epochs is not None:
        options["warmup_epochs"] = args.warmup_epochs
    if args.final_full_epochs is not None:
        options["final_full_epochs"] = args.final_full_epochs
    pruner = DynamicPruner(
        len(data), policy=args.dynamic, keep=args.keep, period=args.period, seed=args.seed, epochs=args.epochs,
        labels=data.y.cpu(), policy_options=policy_options, **options,
    )
    return DynamicPruningCallback(pruner, data, score_source=args.score_source, device=args.device)
