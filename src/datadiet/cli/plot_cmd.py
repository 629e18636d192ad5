"""``datadiet plot``: the figure of an experiment folder, as PNG (mean and 16th-84th percentile band)."""

from __future__ import annotations

import argparse

from datadiet.experiments import load_results, plot_experiment

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="plot an experiment folder's results (PNG)", description=__doc__)
    p.add_argument("experiment", metavar="EXPERIMENT_DIR", help="the --out folder of a sweep")
    p.add_argument("--out", metavar="DIR", help="where to write the figures (default: EXPERIMENT_DIR/figures)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    results = load_results(args.experiment)
    if not results.rows:
        raise ValueError(f"no finished run in {args.experiment}: nothing to plot yet")
    for path in plot_experiment(results, args.out):
        print(path)
    return 0
