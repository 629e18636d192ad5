"""``datadiet plot``: the figures of an experiment folder as PNG: curves of the runs (mean and 16th-84th
percentile band) and the recipe's other figures (score correlations, averaging stability, noise histograms,
image galleries, selection counts)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="plot an experiment folder's figures (PNG)", description=__doc__)
    p.add_argument("experiment", metavar="EXPERIMENT_DIR", help="the --out folder of a sweep")
    p.add_argument("--out", metavar="DIR", help="where to write the figures (default: EXPERIMENT_DIR/figures)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.experiments import load_results
    from datadiet.experiments.figures import figure_entries, render_all
    from datadiet.experiments.layout import FIGURES_DIR
    from datadiet.files import check_output_dir

    results = load_results(args.experiment)
    check_output_dir(args.out or Path(args.experiment) / FIGURES_DIR)
    if not figure_entries(results):
        raise ValueError(f"no finished run in {args.experiment}: nothing to plot yet")
    for entry, rendered in render_all(results, args.out):
        for path in rendered.images:
            print(path)
        for note in rendered.notes:
            print(f"figure {entry['name'] or results.info['name']}: {note}")
    return 0
