"""The README's two set-up commands: CI runs exactly the test command, and the demo command names real things."""

from __future__ import annotations

import re
from pathlib import Path

from datadiet.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [b.strip() for b in blocks if b.strip().startswith("python3 -m venv")]


def test_ci_runs_the_readme_test_command():
    setup = _commands()
    assert len(setup) == 2
    test_command = next(c for c in setup if c.endswith("pytest"))
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_demo_command_exists():
    demo = next(c for c in _commands() if not c.endswith("pytest"))
    assert demo.endswith("datadiet demo") and "demo" in COMMANDS
