"""The time-to-accuracy figure and table on a hand-made results set: curves from the runs' logs, static scoring
charged at the start, wall-clock over the same seed's full run, and the time to full data's accuracy minus the
tolerance, checked against a plain loop over the curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from datadiet.experiments import expand, load_results
from datadiet.experiments.figures import render_entry
from datadiet.experiments.store import ResultStore
from datadiet.files import write_json
from reference import naive_time_to_accuracy

EPOCHS = 4
RUNS = {  # label, kind, keep, static seconds -> per seed: (train, scoring) seconds per epoch, accuracy % per epoch
    ("full", "full", None, 0.0): {0: ((2.0, 0.0), (80, 85, 88, 90)), 1: ((2.5, 0.0), (79, 86, 89, 91))},
    ("full_short", "full", None, 0.0): {0: ((2.0, 0.0), (84, 89)), 1: ((2.5, 0.0), (85, 90.4))},
    ("ucb", "dynamic", 0.5, 0.0): {0: ((1.0, 0.2), (70, 82, 89.8, 90.2)), 1: ((1.2, 0.3), (71, 84, 90.2, 90.4))},
    ("random_dynamic", "dynamic", 0.5, 0.0): {0: ((0.9, 0.0), (70, 80, 85, 88)), 1: ((1.1, 0.0), (72, 81, 86, 89))},
    ("el2n", "static", 0.5, 3.0): {0: ((1.0, 0.0), (60, 70, 90.6, 90.6)), 1: ((1.2, 0.0), (61, 71, 80, 85))},
}


def _config(label: str, kind: str, keep: float | None, seed: int) -> dict:
    method = {"label": label, "kind": kind, **({"rule": "keep_highest"} if kind == "static" else {}),
              **({"epochs": 2} if label == "full_short" else {}),  # a shorter full-data run: a method, no reference
              **({"policy": "ucb"} if kind == "dynamic" else {})}
    return {"method": method, "keep": keep, "seed": seed, "budget": "epochs", "epochs": EPOCHS,
            "data": {"dataset": "digits"}, "model": {"name": "mlp", "width": 1.0}, "train": {}}


def _log(train: float, scoring: float, accuracy) -> list[dict]:
    return [{"epoch": e, "train_seconds": train * (e + 1), "scoring_seconds": scoring * (e + 1),
             "test_accuracy": a / 100} for e, a in enumerate(accuracy)]


@pytest.fixture
def handmade(tmp_path):
    ids = []
    with ResultStore(tmp_path / "results.sqlite") as store:
        for (label, kind, keep, static), seeds in RUNS.items():
            for seed, ((train, scoring), accuracy) in seeds.items():
                run_id = f"{label}{seed}"
                log = _log(train, scoring, accuracy)
                (tmp_path / "runs" / run_id).mkdir(parents=True)
                (tmp_path / "runs" / run_id / "log.jsonl").write_text("\n".join(map(str, log)).replace("'", '"'))
                epochs = len(accuracy)
                metrics = {"test_accuracy": accuracy[-1] / 100, "train_seconds": train * epochs,
                           "scoring_seconds": scoring * epochs + static, "static_scoring_seconds": static,
                           "total_seconds": (train + scoring) * epochs + static,
                           "samples_seen": 400 * epochs * (keep or 1.0), "num_train": 400}
                store.insert(run_id, _config(label, kind, keep, seed), metrics)
                ids.append(run_id)
    write_json(tmp_path / "experiment.json", {
        "name": "handmade", "preset": None, "description": "", "recipe": None, "resolved": {}, "run_ids": ids,
        "plot": {"x": "pruned", "panels": ["accuracy"], "methods": []}, "version": "0", "updated": "now",
        "figures": [_entry(0.3)]})
    return tmp_path


def _entry(tolerance: float) -> dict:
    return {"name": "time", "type": "time_to_accuracy", "settings": {"methods": [], "tolerance": tolerance},
            "scores": {}, "data": None}


def _curves(label: str) -> list[list[tuple[float, float]]]:
    (key,) = [k for k in RUNS if k[0] == label]
    static = key[3]
    return [[((train + scoring) * (e + 1) + static, a) for e, a in enumerate(accuracy)]
            for (train, scoring), accuracy in RUNS[key].values()]


@pytest.mark.parametrize("tolerance", [0.3, 1.0])
def test_the_table_gives_wallclock_ratios_and_times_to_target_per_method(handmade, tolerance):
    rendered = render_entry(_entry(tolerance), load_results(handmade), handmade / "figures")
    assert [p.name for p in rendered.images] == ["handmade-time.png"] and not rendered.notes
    (table,) = rendered.tables
    rows = {row[0]: row for row in table.rows}
    assert table.rows[0][0] == "full"
    for label in ("full", "full_short", "ucb", "random_dynamic", "el2n"):
        ratios, times = naive_time_to_accuracy(_curves(label), _curves("full"), tolerance)
        assert rows[label][4].startswith(f"{np.mean(ratios):.2f}x ± {np.std(ratios, ddof=1):.2f}")
        reached = [t for t in times if not math.isnan(t)]
        expected = f"{np.mean(reached):.2f}x" if reached else "never"
        assert rows[label][6] == f"{expected} ({len(reached)}/{len(times)})", (label, rows[label])
    if tolerance == 0.3:  # target 90.5 - 0.3 = 90.2: el2n seed 0 at epoch 3, (3 x 1.0 + 3.0) / 8.0; seed 1 never
        assert rows["el2n"][6] == "0.75x (1/2)" and rows["random_dynamic"][6] == "never (0/2)"
    assert rows["ucb"][2] == "90.30 ± 0.14" and rows["ucb"][3] == "-0.20"
    assert rows["full_short"][4].startswith("0.50x ± 0.00") and rows["full_short"][3] == "-0.80"


def test_a_time_figure_without_full_data_is_refused():
    recipe = {"base": {"budget": "epochs", "epochs": 2, "seed": 0, "keep": 0.5, "data": {"dataset": "digits"},
                       "model": {"name": "mlp"}}, "grid": {"method": ["random"]},
              "figures": {"t": {"type": "time_to_accuracy"}}}
    with pytest.raises(ValueError, match="time to accuracy is relative to full data"):
        expand(recipe)
    recipe["grid"]["method"] = ["full", "random"]
    recipe["figures"]["t"]["tolerance"] = -1
    with pytest.raises(ValueError, match=r"tolerance must be a number of accuracy points in \[0, 100\), got -1"):
        expand(recipe)
