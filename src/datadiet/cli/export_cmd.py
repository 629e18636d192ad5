"""``datadiet export``: an experiment's finished runs as one flat table (CSV, or Parquet with pandas + pyarrow)."""

from __future__ import annotations

import argparse

from datadiet.cli.names import EXPORT_FORMATS

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export an experiment folder's results as CSV or Parquet", description=__doc__)
    p.add_argument("experiment", metavar="EXPERIMENT_DIR", help="the --out folder of a sweep")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="csv (default) or parquet")
    p.add_argument("--output", metavar="FILE", help="output file (default: EXPERIMENT_DIR/results.FORMAT)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.experiments import export_results

    print(export_results(args.experiment, args.format, args.output))
    return 0
