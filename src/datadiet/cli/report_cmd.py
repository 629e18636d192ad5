"""``datadiet report``: one self-contained HTML file with an experiment's figures, numbers, costs and configuration."""

from __future__ import annotations

import argparse


__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write an HTML report of an experiment folder", description=__doc__)
    p.add_argument("experiment", metavar="EXPERIMENT_DIR", help="the --out folder of a sweep")
    p.add_argument("--output", metavar="FILE", help="report file (default: EXPERIMENT_DIR/report.html)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.experiments import write_report

    print(write_report(args.experiment, args.output))
    return 0
