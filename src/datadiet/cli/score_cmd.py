"""``datadiet score``: score every training example, averaged over independent runs, into a score file."""

from __future__ import annotations

import argparse

from datadiet.cli.options import (
    add_data_options, add_model_options, add_train_options, build_model, load_data, train_config,
)
from datadiet.scores import ScoreFile, get_score, list_scores, score_runs
from datadiet.training import default_device, trainer_fn

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="score every training example (EL2N, GraNd, forgetting, ...) into a score file",
        description=__doc__ + " Runs train the network for the schedule given by --epochs/--steps (default: up "
        "to the time point) and stop at --epoch/--step; T = 0 scores freshly initialized networks.",
    )
    add_data_options(p)
    add_model_options(p)
    add_train_options(p, budget_required=False)
    p.add_argument("--method", required=True, help=f"one of: {', '.join(list_scores())}")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--epoch", type=int, metavar="T", help="score after T epochs (0: at initialization)")
    when.add_argument("--step", type=int, metavar="T", help="score after T optimizer steps (0: at initialization)")
    p.add_argument("--runs", type=int, default=1, help="independent runs to average (the paper uses 10)")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="score file to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    get_score(args.method)
    at, config = _time_and_schedule(args)
    splits = load_data(args)
    data = splits.train
    device = args.device or default_device()
    train_fn = trainer_fn(data, config, device=device) if config is not None else None
    result = score_runs(
        args.method, data, lambda seed: build_model(args, data, seed), train_fn, at=at, runs=args.runs,
        seed0=args.seed, device=device, progress=not args.no_progress,
    )
    scores = ScoreFile.from_runs(result, data, model=args.model, model_kwargs={"width": args.width})
    scores.save(args.out)
    print(f"{args.method} at {scores.time}, {args.runs} run(s), {len(data)} examples -> {args.out}")
    return 0


def _time_and_schedule(args: argparse.Namespace):
    """The time point and the training schedule the runs follow (None at initialization)."""
    at = args.epoch if args.epoch is not None else args.step
    if at is not None and at < 0:
        raise ValueError(f"the time point must be >= 0, got {at}")
    if at == 0:
        return 0, None
    if args.epochs is None and args.steps is None:
        if at is None:
            raise ValueError("give a time point (--epoch/--step T) or a schedule (--epochs/--steps N)")
        if args.epoch is not None:
            args.epochs = at
        else:
            args.steps = at
    if (args.epoch is not None and args.steps is not None) or (args.step is not None and args.epochs is not None):
        raise ValueError("the time point and the schedule must use the same unit (--epoch with --epochs)")
    return at, train_config(args)
