"""``datadiet recipes``: the experiment recipes that ship with datadiet.

``list`` names them with their one-line descriptions; ``show NAME`` prints one (its header states the commands,
the runtime of each preset and what the paper reports); ``copy NAME [DEST]`` copies one out to edit. Run one by
its name: ``datadiet sweep NAME --preset tiny --out DIR``.
"""

from __future__ import annotations

import argparse
import textwrap

from datadiet.recipes import copy_recipe, describe, list_recipes, recipe_path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recipes", help="list, show or copy the shipped experiment recipes", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the shipped recipes with their descriptions")
    show = actions.add_parser("show", help="print a recipe")
    show.add_argument("name", metavar="NAME", help="a shipped recipe (see datadiet recipes list)")
    copy = actions.add_parser("copy", help="copy a recipe out to edit it")
    copy.add_argument("name", metavar="NAME", help="a shipped recipe (see datadiet recipes list)")
    copy.add_argument("dest", metavar="DEST", nargs="?", default=".",
                      help="a file, or a folder to copy NAME.toml into (default: the current folder)")
    copy.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        print(recipe_path(args.name).read_text(), end="")
    elif args.action == "copy":
        target = copy_recipe(args.name, args.dest, overwrite=args.force)
        print(f"copied {args.name} to {target}; run it with: datadiet sweep {target} --preset tiny --out DIR")
    else:
        _list()
    return 0


def _list() -> None:
    names = list_recipes()
    width = max(map(len, names))
    for name in names:
        lines = textwrap.wrap(describe(name), 116 - width) or [""]
        print(f"{name:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(" " * (width + 2) + line)
