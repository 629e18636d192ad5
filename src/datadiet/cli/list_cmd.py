"""``datadiet list``: the names a command accepts; scores and selection rules with a one-line description."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["add_parser", "run"]


def _datasets() -> list[str]:
    from datadiet.data import list_datasets

    return list_datasets()


def _models() -> list[str]:
    from datadiet.models import list_models

    return list_models()


def _scores() -> list[str]:
    from datadiet.scores import SCORES

    return _described({name: f"{m.summary} ({m.kind})" for name, m in SCORES.items()})


def _rules() -> list[str]:
    from datadiet.selection import RULES

    return _described({name: rule.summary for name, rule in RULES.items()})


def _described(summaries: dict[str, str]) -> list[str]:
    width = max(map(len, summaries))
    return [f"{name:<{width}}  {summaries[name]}" for name in sorted(summaries)]


LISTS: dict[str, Callable[[], list[str]]] = {"datasets": _datasets, "models": _models, "scores": _scores,
                                             "rules": _rules}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list valid names (datasets, models, scores, rules)", description=__doc__)
    p.add_argument("what", choices=sorted(LISTS), help="what to list")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("\n".join(LISTS[args.what]()))
    return 0
