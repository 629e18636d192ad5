"""Command-line options of dynamic data pruning (``datadiet train --dynamic POLICY``)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from datadiet.cli.names import POLICIES, SCORE_PRECISIONS, SCORE_SOURCES

if TYPE_CHECKING:
    from datadiet.data.dataset import IndexedDataset
    from datadiet.training.dynamic_pruning import DynamicPruningCallback

__all__ = ["add_dynamic_options", "dynamic_callback", "dynamic_settings"]

_FLAGS = ("keep", "period", "score_source", "policy_options", "paper_faithful", "warmup_epochs", "final_full_epochs",
          "score_precision")
_IF_GIVEN = ("score_precision",)
"""Flags added later: part of a run's identity only when given, so that runs saved before still resume."""


def add_dynamic_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("dynamic pruning (re-select the training subset during training)")
    g.add_argument("--dynamic", metavar="POLICY", help=f"one of: {', '.join(POLICIES)}")
    g.add_argument("--keep", type=float, help="fraction of examples trained on per epoch (not for infobatch)")
    g.add_argument("--period", type=int, help="epochs between re-selections (T_p; paper and default: 10; "
                   "infobatch: 1)")
    g.add_argument("--score-source", choices=SCORE_SOURCES,
                   help="pass (default): a scoring pass over all data at each checkpoint (the paper); batch "
                   "(infobatch's default): the training losses; stale: the training losses and a pass over only "
                   "the examples not trained on since the last checkpoint")
    g.add_argument("--score-precision", choices=SCORE_PRECISIONS,
                   help="the scoring passes' forward precision: fp32 (default) or bf16 (autocast; on a CPU "
                   "0.6-0.8x the time with the same ranking of the examples)")
    g.add_argument("--policy-options", metavar="JSON",
                   help='policy hyper-parameters, e.g. \'{"alpha": 0.8, "c": 1.0}\'')
    g.add_argument("--paper-faithful", action="store_true",
                   help="the paper's Algorithm 1 exactly: no warm-up, one global ranking (may collapse on short runs)")
    g.add_argument("--warmup-epochs", type=int, help="epochs on all data before the first selection (default 1; "
                   "infobatch: 0)")
    g.add_argument("--final-full-epochs", type=int, help="epochs on all data at the end (infobatch: its delta of "
                   "the epochs, default 0.125)")


def dynamic_callback(args: argparse.Namespace, data: IndexedDataset) -> DynamicPruningCallback | None:
    """The pruning callback the options describe, or None without ``--dynamic``.

    Options not given are the policy's (the pruner and the callback fill them in; InfoBatch's are its own rule:
    every epoch, no warm-up, training losses); ``args.period`` and ``args.score_source`` are set to what was used.
    """
    from datadiet.dynamic import PAPER_OPTIONS, DynamicPruner
    from datadiet.training.dynamic_pruning import DynamicPruningCallback

    _check_given(args)
    if args.dynamic is None:
        return None
    if args.epochs is None:
        raise ValueError("dynamic pruning trains for a number of epochs: use --epochs, not --steps")
    if args.subset:
        raise ValueError("--dynamic selects from the whole training set; it cannot be combined with --subset")
    policy_options = _policy_options(args)
    _check_own_rule(args, policy_options)
    options: dict[str, Any] = dict(PAPER_OPTIONS) if args.paper_faithful else {}
    if args.warmup_epochs is not None:
        options["warmup_epochs"] = args.warmup_epochs
    if args.final_full_epochs is not None:
        options["final_full_epochs"] = args.final_full_epochs
    pruner = DynamicPruner(
        len(data), policy=args.dynamic, keep=args.keep, period=args.period, seed=args.seed, epochs=args.epochs,
        labels=data.y.cpu(), policy_options=policy_options, **options,
    )
    callback = DynamicPruningCallback(pruner, data, score_source=args.score_source, device=args.device,
                                      score_precision=args.score_precision or "fp32")
    args.period, args.score_source = pruner.schedule.period, callback.score_source
    return callback


def dynamic_settings(args: argparse.Namespace) -> dict:
    """The dynamic-pruning options as given (after :func:`dynamic_callback`), for a run's identity."""
    settings = {flag: getattr(args, flag) for flag in _FLAGS
                if flag not in _IF_GIVEN or getattr(args, flag) is not None}
    settings["policy_options"] = _policy_options(args) if args.dynamic is not None else None
    return {"dynamic": args.dynamic, **settings}


def _check_given(args: argparse.Namespace) -> None:
    """Refuse dynamic-pruning options without ``--dynamic``."""
    given = ["--" + flag.replace("_", "-") for flag in _FLAGS if getattr(args, flag) not in (None, False)]
    if args.dynamic is None and given:
        verb, them = ("applies", "it") if len(given) == 1 else ("apply", "them")
        raise ValueError(f"{', '.join(given)} only {verb} with --dynamic POLICY (dynamic pruning); drop {them} or "
                         "add --dynamic")


def _check_own_rule(args: argparse.Namespace, policy_options: dict) -> None:
    """Refuse what contradicts InfoBatch's own rule rather than varying it."""
    if args.dynamic != "infobatch":
        return
    if args.paper_faithful:
        raise ValueError("--paper-faithful is Algorithm 1 of Raju et al. for the fixed-budget policies; infobatch "
                         "follows its own paper by default: drop --paper-faithful")
    if args.final_full_epochs is not None and "delta" in policy_options:
        raise ValueError("--final-full-epochs and --policy-options delta both set infobatch's final full-data "
                         "phase: give one of them")


def _policy_options(args: argparse.Namespace) -> dict:
    """``--policy-options`` as a dict (``{}`` when not given)."""
    try:
        policy_options = json.loads(args.policy_options or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"--policy-options is not valid JSON: {error}") from None
    if not isinstance(policy_options, dict):
        raise ValueError('--policy-options must be a JSON object, e.g. \'{"c": 1.0}\'')
    return policy_options
