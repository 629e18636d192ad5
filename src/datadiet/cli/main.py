"""Entry point of the ``datadiet`` command: one sub-command per module, errors as one line with exit status 2.

The errors shown as one line are those the library raises about its input: ``ValueError``,
``FileNotFoundError``, a file-system refusal that names its path (permission denied, a folder where a file was
expected, ...), a failed download and a diverged training run. Anything else is a bug and keeps its traceback;
``--debug`` (or ``DATADIET_DEBUG=1``) shows the traceback of every error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
from typing import NoReturn

from datadiet.errors import TrainingDiverged

__all__ = ["main"]

COMMANDS = (
    "demo", "train", "score", "embed", "select", "compare", "noise-report", "dynamics", "sweep", "plot", "report",
    "export", "list", "recipes",
)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (the usage is one ``--help`` away) and whose
    description is plain text (a command module's docstring, its reST markup removed)."""

    def __init__(self, *, description: str | None = None, **kwargs) -> None:
        super().__init__(description=plain_text(description) if description else description, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_SHORT_ROLE = re.compile(r":[a-z]+:`~[^`]*?([^.`]+)`")


def plain_text(text: str) -> str:
    """``text`` without reST markup: roles (``:func:`name```) as their target, literals without their double
    backticks, and a literal block's ``::`` as ``:``."""
    text = _SHORT_ROLE.sub(r"\1", text)
    text = _ROLE.sub(r"\1", text)
    text = text.replace("``", "")
    return re.sub(r"(?<=\S)::$", ":", text, flags=re.M)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="datadiet", description="Find which training examples matter, and train on fewer of them."
    )
    parser.add_argument("--version", action="version", version=f"datadiet {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also: environment variable DATADIET_DEBUG=1)")
    parser.add_argument("--quiet", action="store_true", help="report only warnings and errors on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"datadiet.cli.{name.replace('-', '_')}_cmd")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; user errors print one line to stderr and return 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(quiet=args.quiet)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # whoever read the output stopped (`datadiet list scores | head`): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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


def _version() -> str:
    """The installed package's version (its metadata), else the source tree's ``datadiet.__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datadiet")
    except PackageNotFoundError:
        from datadiet import __version__

        return __version__


def _configure_logging(*, quiet: bool) -> None:
    """The library's log messages on stderr: INFO and above, or WARNING and above with ``--quiet``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("datadiet: %(message)s"))
    logger = logging.getLogger("datadiet")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


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
