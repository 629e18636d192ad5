"""``datadiet select``: choose a subset from a score file (or at random) and write it with its provenance."""

from __future__ import annotations

import argparse

from datadiet.scores import ScoreFile
from datadiet.selection import (
    ccs, keep_highest, keep_lowest, random_subset, save_subset, sliding_window, subset_from_scores,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="select a subset from scores: keep the highest, a window, CCS or random",
                       description=__doc__)
    p.add_argument("--scores", required=True, metavar="FILE.npz", help="score file from `datadiet score`")
    p.add_argument("--keep", required=True, type=float, help="fraction of examples to keep, in (0, 1]")
    rule = p.add_mutually_exclusive_group()
    rule.add_argument("--offset", type=float, help="sliding window: drop this lowest-scored fraction first")
    rule.add_argument("--lowest", action="store_true", help="keep the lowest-scored (easiest) examples")
    rule.add_argument("--random", action="store_true", help="a uniformly random subset of the same size")
    rule.add_argument("--ccs-beta", type=float, metavar="BETA",
                      help="coverage-centric selection: drop the hardest BETA fraction, sample across strata")
    p.add_argument("--class-balanced", action="store_true", help="apply the rule within each class")
    p.add_argument("--seed", type=int, default=0, help="seed of random and CCS draws")
    p.add_argument("--out", required=True, metavar="FILE.npy", help="subset file to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    scores = ScoreFile.load(args.scores)
    labels = scores.labels if args.class_balanced else None
    rule, params, positions = _apply(args, scores.mean, labels)
    seed = params.get("seed")
    subset = subset_from_scores(positions, scores, rule=rule, params=params, seed=seed)
    save_subset(subset, args.out)
    print(f"{rule}: kept {len(subset)} of {scores.num_examples} examples -> {args.out}")
    return 0


def _apply(args: argparse.Namespace, s, labels):
    """(rule name, parameters, selected positions) for the command-line choice."""
    params = {"keep": args.keep, "class_balanced": args.class_balanced}
    if args.random:
        return "random", {**params, "seed": args.seed}, random_subset(len(s), args.keep, seed=args.seed,
                                                                      labels=labels)
    if args.lowest:
        return "keep_lowest", params, keep_lowest(s, args.keep, labels=labels)
    if args.offset is not None:
        return "sliding_window", {**params, "offset": args.offset}, sliding_window(
            s, offset=args.offset, size=args.keep, labels=labels)
    if args.ccs_beta is not None:
        return "ccs", {**params, "beta": args.ccs_beta, "seed": args.seed}, ccs(
            s, args.keep, beta=args.ccs_beta, seed=args.seed, labels=labels)
    return "keep_highest", params, keep_highest(s, args.keep, labels=labels)
