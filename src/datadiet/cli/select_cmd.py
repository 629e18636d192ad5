"""``datadiet select``: choose a subset from a score file (or at random) and write it with its provenance."""

from __future__ import annotations

import argparse
from pathlib import Path

from datadiet.cli.names import RULES

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="select a subset from scores: keep the highest, a window, CCS or random",
                       description=__doc__)
    p.add_argument("--scores", required=True, metavar="FILE.npz", help="score file from `datadiet score`")
    p.add_argument("--keep", required=True, type=float, help="fraction of examples to keep, in (0, 1]")
    p.add_argument("--rule", choices=RULES, help="selection rule (default keep_highest; `datadiet list rules`)")
    rule = p.add_mutually_exclusive_group()
    rule.add_argument("--offset", type=float, help="sliding window: drop this lowest-scored fraction first")
    rule.add_argument("--lowest", action="store_true", help="keep the lowest-scored (easiest) examples")
    rule.add_argument("--random", action="store_true", help="a uniformly random subset of the same size")
    rule.add_argument("--ccs-beta", type=float, metavar="BETA",
                      help="coverage-centric selection: drop the hardest BETA fraction, sample across strata")
    p.add_argument("--strata", type=int, help="CCS: number of score strata (default 50)")
    p.add_argument("--class-balanced", action="store_true", help="apply the rule within each class")
    p.add_argument("--seed", type=int, default=0, help="seed of random and CCS draws")
    p.add_argument("--out", required=True, metavar="FILE.npy", help="subset file to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.files import check_output_file
    from datadiet.scores import ScoreFile
    from datadiet.selection import get_rule, save_subset, select, subset_from_scores

    name, options = _rule(args)
    if Path(args.out).suffix != ".npy":
        raise ValueError(f"--out must name a .npy subset file, got {args.out!r}")
    check_output_file(args.out)
    check_output_file(args.out + ".json", "--out's description")
    scores = ScoreFile.load(args.scores)
    labels = scores.labels if args.class_balanced else None
    seed = args.seed if get_rule(name).random else None
    positions = select(scores.mean, args.keep, rule=name, labels=labels, seed=seed, **options)
    params = {"keep": args.keep, "class_balanced": args.class_balanced, **options}
    if seed is not None:
        params["seed"] = seed
    subset = subset_from_scores(positions, scores, rule=name, params=params, seed=seed)
    save_subset(subset, args.out)
    print(f"{name}: kept {len(subset)} of {scores.num_examples} examples -> {args.out}")
    return 0


def _rule(args: argparse.Namespace) -> tuple[str, dict]:
    """The rule named by ``--rule`` or a shorthand flag, and its options from the command line."""
    from datadiet.selection import RULES

    options = {k: v for k, v in (("offset", args.offset), ("beta", args.ccs_beta), ("strata", args.strata))
               if v is not None}
    implied = ("sliding_window" if args.offset is not None else "keep_lowest" if args.lowest
               else "random" if args.random else "ccs" if args.ccs_beta is not None else None)
    if args.rule and implied and args.rule != implied:
        raise ValueError(f"--rule {args.rule} contradicts the flag that means {implied}")
    name = args.rule or implied or "keep_highest"
    unknown = sorted(set(options) - set(RULES[name].options))
    if unknown:
        raise ValueError(f"rule {name} takes no {', '.join('--' + u.replace('beta', 'ccs-beta') for u in unknown)}")
    return name, options
