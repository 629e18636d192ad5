"""``datadiet demo`` runs end to end and prints its comparison table."""

from __future__ import annotations

from datadiet.cli.main import main


def test_demo_prints_a_table(capsys):
    assert main(["demo", "--epochs", "2", "--score-epoch", "1", "--score-runs", "1", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    for row in ("full data", "random 50%", "EL2N top 50%", "EL2N bottom 50%"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert "±" in line
    assert "4000" in out and "2000" in out
