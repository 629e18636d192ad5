"""``datadiet compare``: Spearman rank correlation between score files of the same dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from datadiet.cli.options import check_figure_file

if TYPE_CHECKING:
    from datadiet.scores import ScoreFile

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="rank correlation between score files", description=__doc__)
    p.add_argument("scores", nargs="+", metavar="FILE.npz", help="two or more score files")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the correlation matrix")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from datadiet.analysis import correlation_matrix, plot_correlation_matrix
    from datadiet.scores import ScoreFile

    if len(args.scores) < 2:
        raise ValueError("give at least two score files to compare")
    check_figure_file(args.plot)
    files = [ScoreFile.load(path) for path in args.scores]
    for path, other in zip(args.scores[1:], files[1:]):
        if not np.array_equal(other.indices, files[0].indices) or other.label_fingerprint != files[0].label_fingerprint:
            raise ValueError(f"{path} scores other examples than {args.scores[0]} ({other.dataset!r} vs "
                             f"{files[0].dataset!r}): only scores of the same dataset can be compared")
    names = _labels(args.scores, files)
    names, matrix = correlation_matrix({name: f.mean for name, f in zip(names, files)})
    width = max(len(n) for n in names)
    print(" " * width + "  " + "  ".join(f"{i:>6}" for i in range(len(names))))
    for i, (name, row) in enumerate(zip(names, matrix)):
        print(f"{name:<{width}}  " + "  ".join(f"{v:6.3f}" for v in row) + f"   [{i}]")
    if args.plot:
        plot_correlation_matrix(names, matrix, args.plot)
        print(f"plot -> {args.plot}")
    return 0


def _labels(paths: list[str], files: list[ScoreFile]) -> list[str]:
    """``method@time`` per file, with the file name added where two would read alike."""
    labels = [f"{f.method}@{f.time}" for f in files]
    if len(set(labels)) < len(labels):
        labels = [f"{label} ({Path(p).name})" for label, p in zip(labels, paths)]
    return labels
