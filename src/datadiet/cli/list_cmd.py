"""``datadiet list``: the names a command accepts."""

from __future__ import annotations

import argparse

from datadiet.data import list_datasets
from datadiet.models import list_models

__all__ = ["add_parser", "run"]

LISTS = {"datasets": list_datasets, "models": list_models}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list valid names", description=__doc__)
    p.add_argument("what", choices=sorted(LISTS), help="what to list")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("\n".join(LISTS[args.what]()))
    return 0
