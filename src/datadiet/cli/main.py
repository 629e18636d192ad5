"""Entry point of the ``datadiet`` command: one sub-command per module, errors as one line with exit status 2.

The errors shown as one line are those the library raises about its input: ``ValueError``,
``FileNotFoundError``, a file-system refusal that names its path (permission denied, a folder where a file was
expected, ...), a failed download and a diverged training run. Anything else is a bug and keeps its traceback;
``--debug`` (or ``DATADIET_DEBUG=1``) shows the traceback of every error.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also: environment variable DATADIET_DEBUG=1)")
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
    except (ValueError, FileNotFoundError, TrainingDiverged, ConnectionError, *_PATH_ERRORS) as error:
        if _debug(args) or (isinstance(error, _PATH_ERRORS) and error.filename is None):
            raise
        print(f"datadiet {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"datadiet {args.command}: interrupted", file=sys.stderr)
        return 130


_PATH_ERRORS = (PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)
"""File-system refusals that are about the user's paths when they name one (otherwise they are bugs)."""


def _debug(args: argparse.Namespace) -> bool:
    """Whether tracebacks are wanted: ``--debug`` or ``DATADIET_DEBUG`` set to anything but 0."""
    return args.debug or os.environ.get("DATADIET_DEBUG", "") not in ("", "0")


def _one_line(error: BaseException) -> str:
    """The error's message on one line; a file-system error as "reason: path"."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
