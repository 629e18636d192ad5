"""Entry point of the ``datadiet`` command: one sub-command per module, errors as one line with exit status 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from datadiet.training.trainer import TrainingDiverged

__all__ = ["main"]

COMMANDS = (
    "demo", "train", "score", "select", "compare", "noise-report", "dynamics", "sweep", "plot", "report", "export",
    "list", "recipes",
)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="datadiet", description="Find which training examples matter, and train on fewer of them."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"datadiet.cli.{name.replace('-', '_')}_cmd")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; user errors print one line to stderr and return 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, FileNotFoundError, TrainingDiverged) as error:
        print(f"datadiet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"datadiet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
