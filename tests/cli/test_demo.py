"""``datadiet demo``: a tiny configuration through the command's code path; its cost accounting, its reading and
its refusals."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from datadiet.cli.demo_cmd import _reading
from datadiet.cli.demo_runs import Arm, Cost, generate_mnist1d
from datadiet.cli.main import main

TINY = ["demo", "--train-size", "500", "--test-size", "100", "--epochs", "3", "--period", "1", "--score-epoch", "1",
        "--score-runs", "1", "--seeds", "2"]


def _rows(out: str) -> dict[str, tuple[float, float, float, float, float]]:
    """Table rows: name -> (accuracy mean, sd, trained, scored, time)."""
    rows = {}
    for line in out.splitlines():
        found = re.fullmatch(r"(.+?)\s+([\d.]+) ± ([\d.]+)\s+([\d.]+)x\s+([\d.]+)x\s+([\d.]+)x", line)
        if found:
            rows[found[1]] = tuple(float(v) for v in found.groups()[1:])
    return rows


def test_demo_prints_a_table_whose_costs_count_every_example(capsys):
    assert main(TINY) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert list(rows) == ["full data", "full data (2 epochs)", "random 80% (static)", "EL2N top 80% (static)",
                          "random 80% (dynamic)", "ε-greedy 80% (dynamic)"]
    full = 2 * 3 * 500  # examples trained by full data's two runs
    expected = {  # (trained, scored) over full, by hand from the options
        "full data": (1, 0),
        "full data (2 epochs)": (2 * 2 * 500 / full, 0),
        "random 80% (static)": (2 * 3 * 400 / full, 0),
        "EL2N top 80% (static)": ((2 * 3 * 400 + 1 * 1 * 500) / full, 500 / full),  # one score run of one epoch
        "random 80% (dynamic)": (2 * (500 + 2 * 400) / full, 0),  # a warm-up epoch on all data, then 400 a epoch
        "ε-greedy 80% (dynamic)": (2 * (500 + 2 * 400) / full, 2 * 2 * 500 / full),  # a pass at epochs 1 and 2
    }
    for name, (trained, scored) in expected.items():
        assert rows[name][2:4] == (round(trained, 2), round(scored, 2)), name
    assert all(0 <= row[0] <= 100 and row[4] > 0 for row in rows.values())
    assert rows["full data"][4] == 1.0
    assert "2 seeds" in out and "500 training / 100 test" in out
    assert out.rstrip().splitlines()[-1].startswith("Reading: full data ")


def _arm(name: str, accuracies: tuple[float, ...], seconds: float) -> Arm:
    return Arm(name, accuracies, Cost(seconds, 100, 0))


def test_the_reading_names_the_sets_within_one_sd_in_less_time():
    arms = [_arm("full data", (0.90, 0.92), 10), _arm("full data (8 epochs)", (0.89, 0.89), 8),
            _arm("a", (0.91, 0.90), 8), _arm("b", (0.91, 0.91), 11), _arm("c", (0.88, 0.89), 5)]
    line = _reading(arms)
    assert line.startswith("Reading: full data 91.00 ± 1.41; within one sd in less time: a 90.50 at 0.80x; ")
    assert "the others: b 91.00 at 1.10x, c 88.50 at 0.50x; full data (8 epochs), as many examples as a pruned " \
           "set: 89.00, short of it." in line
    nobody = _reading([arms[0], arms[1], arms[4]])
    assert "no pruned set is within one sd in less time; the others: c 88.50 at 0.50x" in nobody


def test_generated_mnist1d_has_the_sizes_asked_and_leaves_the_random_states_alone():
    np.random.seed(3)
    random.seed(3)
    splits = generate_mnist1d(95, 17)
    assert (len(splits.train), len(splits.test)) == (95, 17)
    assert tuple(splits.train.x.shape[1:]) == (1, 40) and splits.train.num_classes == 10
    assert np.random.rand() == np.random.RandomState(3).rand() and random.random() == random.Random(3).random()


@pytest.mark.parametrize("argv, expected", [
    (["--keep", "1"], "--keep must be a fraction in (0, 1)"),
    (["--keep", "nan"], "--keep must be a fraction in (0, 1)"),
    (["--score-epoch", "31"], "--score-epoch (31) must be at most --epochs (30)"),
    (["--train-size", "10", "--keep", "0.5"], "must keep at least 10 examples"),
    (["--seeds", "0"], "must be a positive integer"),
])
def test_bad_options_are_refused_in_one_line(argv, expected, capsys, monkeypatch):
    monkeypatch.setattr("datadiet.cli.demo_runs.generate_mnist1d", lambda *a: pytest.fail("work started"))
    try:
        code = main(["demo", *argv])
    except SystemExit as exit_info:
        code = exit_info.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err
