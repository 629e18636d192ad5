"""The help path is light (no torch, scipy or numpy) and plain text; ``--version``; the light name lists agree
with the library's registries."""

import json
import subprocess
import sys

import pytest

from datadiet.cli import names
from datadiet.cli.main import COMMANDS, build_parser, main, plain_text

HEAVY = ("torch", "scipy", "numpy", "matplotlib", "sklearn", "pandas")

PROBE = """
import json, sys
from datadiet.cli.main import build_parser
parser = build_parser()
for argv in {argvs!r}:
    try:
        parser.parse_args(argv)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def _help_argvs() -> list[list[str]]:
    return [["--help"], *([command, "--help"] for command in COMMANDS), ["dynamics", "velocity", "--help"],
            ["dynamics", "barrier", "--help"], ["recipes", "copy", "--help"]]


def test_help_imports_no_torch_scipy_or_numpy():
    probe = PROBE.format(argvs=_help_argvs(), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == []


def _subparsers(parser):
    for action in parser._actions:
        if action.choices and hasattr(action, "_name_parser_map"):
            for sub in action._name_parser_map.values():
                yield sub
                yield from _subparsers(sub)


@pytest.mark.parametrize("role", ["``", ":func:", ":mod:", ":class:", ":meth:"])
def test_every_help_is_plain_text(role):
    parsers = [build_parser()]
    parsers += list(_subparsers(parsers[0]))
    assert len(parsers) > len(COMMANDS)
    marked = [p.prog for p in parsers if role in p.format_help()]
    assert marked == []


def test_plain_text_strips_rest_markup():
    text = "see :func:`run_identity` and :mod:`~datadiet.training.distributed`; ``datadiet sweep``, e.g.::"
    assert plain_text(text) == "see run_identity and distributed; datadiet sweep, e.g.:"


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"datadiet {version('datadiet')}"


def test_the_light_names_match_the_registries():
    from datadiet.data import AUGMENTATIONS, list_datasets
    from datadiet.dynamic import POLICIES
    from datadiet.experiments.executors import EXECUTORS
    from datadiet.experiments.export import FORMATS
    from datadiet.models import list_models
    from datadiet.scores import get_score, list_scores
    from datadiet.scores.runs import recorded_scores
    from datadiet.selection import list_rules
    from datadiet.training.config import PRECISIONS
    from datadiet.dynamic.scoring import SCORE_PRECISIONS, SCORE_SOURCES

    assert names.DATASETS == tuple(list_datasets())
    assert names.MODELS == tuple(list_models())
    assert names.AUGMENTATIONS == tuple(AUGMENTATIONS)
    assert names.PRECISIONS == tuple(PRECISIONS)
    assert names.SCORES == tuple(list_scores())
    assert names.RECORDED_SCORES == recorded_scores()
    assert names.RULES == tuple(list_rules())
    assert names.POLICIES == tuple(POLICIES)
    assert names.SCORE_SOURCES == tuple(SCORE_SOURCES)
    assert names.SCORE_PRECISIONS == tuple(SCORE_PRECISIONS)
    assert names.EXECUTORS == tuple(EXECUTORS)
    assert names.EXPORT_FORMATS == tuple(FORMATS)
    for option, takers in names.RECORDED_SCORE_OPTIONS.items():
        assert takers == tuple(name for name in recorded_scores() if _takes(get_score(name), option)), option


def _takes(method, option: str) -> bool:
    try:
        method.check_options({option: None})
    except ValueError:
        return False
    return True


def test_library_log_messages_go_to_stderr_unless_quiet(capsys):
    import logging

    log = logging.getLogger("datadiet.data.download")
    assert main(["list", "models"]) == 0
    log.info("fetching")
    log.warning("careful")
    captured = capsys.readouterr()
    assert "fetching" not in captured.out and captured.err == "datadiet: fetching\ndatadiet: careful\n"
    assert main(["--quiet", "list", "models"]) == 0
    log.info("fetching")
    log.warning("careful")
    assert capsys.readouterr().err == "datadiet: careful\n"
