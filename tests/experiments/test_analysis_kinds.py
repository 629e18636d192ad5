"""The analysis kinds ``velocity`` and ``barrier`` (paper 1, Fig. 3 and 4) in the runner: their configuration is
checked like every kind's, a grid over ``keep`` does not multiply them, and a sweep of each recipe's tiny preset
writes JSON, store rows and figures whose numbers are the library's (and the ``datadiet dynamics`` command's) for
the same seeds; a run stopped after some training resumes it."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from reference import naive_error_barrier

from datadiet.analysis import alpha_grid, seeded_spawn_barriers, tracked_velocity
from datadiet.analysis import barrier as barrier_module
from datadiet.cli import dynamics_cmd
from datadiet.experiments import (
    ResultStore, estimate, expand, load_recipe, load_results, run_sweep, score_need,
)
from datadiet.experiments.figures import plot_experiment, render_all
from datadiet.experiments.recipe import merge, read_recipe
from datadiet.recipes import FOLDER as RECIPES

BASE = {
    "base": {"budget": "epochs", "epochs": 3, "seed": 0, "method": "v", "data": {"dataset": "digits"},
             "model": {"name": "mlp"}},
    "methods": {"v": {"kind": "velocity", "score": "el2n"},
                "b": {"kind": "barrier", "spawn_epochs": [0, 1], "score_epoch": 1}},
}


def check(tables: dict, *fragments: str) -> None:
    with pytest.raises(ValueError) as error:
        expand(merge(BASE, tables))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


@pytest.mark.parametrize("tables, fragments", [
    ({"methods": {"v": {"windw": 10}}}, ["unknown key 'windw' in methods.v", "valid: score, scores_from, score_runs, "
                                         "score_seed, track_epochs, num_ranks, ranks, window, chunk_examples, "
                                         "chunk_params"]),
    ({"methods": {"v": {"score_epoch": 1}}}, ["unknown key 'score_epoch' in methods.v"]),
    ({"methods": {"b": {"spawn": 1}}, "base": {"method": "b"}},
     ["unknown key 'spawn' in methods.b", "valid: spawn_epochs, score_epoch, subset_size, alphas, recompute_bn, "
                                          "bn_examples"]),
    ({"methods": {"v": {"score": "el3n"}}}, ["unknown score 'el3n'", "el2n"]),
    ({"methods": {"v": {"score": "forgetting"}}}, ["score 'forgetting' is not computed from one network's weights",
                                                   "valid: el2n"]),
    ({"methods": {"v": {"scores_from": "both"}}}, ["scores_from must be one of tracked, independent"]),
    ({"methods": {"v": {"score_runs": 2}}}, ['score_runs and score_seed are for scores_from = "independent"']),
    ({"methods": {"v": {"scores_from": "independent", "score_runs": 0}}}, ["score_runs must be a positive integer"]),
    ({"methods": {"v": {"ranks": [0, 10], "num_ranks": 2}}}, ["either ranks", "or num_ranks"]),
    ({"methods": {"v": {"window": 0}}}, ["window must be a positive integer"]),
    ({"methods": {"v": {"scores_from": "independent", "score_seed": 0}}}, [
        "seed 0 is one of the scoring runs' seeds 0..0", "score_seed"]),
    ({"methods": {"v": {"track_epochs": 4}}}, ["track_epochs = 4 is past the end of the 3-epoch schedule"]),
    ({"base": {"method": "b"}, "methods": {"b": {"spawn_epochs": [0, 3]}}}, ["spawn_epochs must be below the "
                                                                             "schedule's 3 epochs"]),
    ({"base": {"method": "b"}, "methods": {"b": {"spawn_epochs": []}}}, ["spawn_epochs must be a non-empty list"]),
    ({"base": {"method": "b"}, "methods": {"b": {"alphas": 1}}}, ["alphas", "at least 2"]),
    ({"figures": {"f": {"type": "barrier"}}}, ["figures.f: the experiment has no barrier run to show"]),
    ({"figures": {"f": {"type": "velocity", "methods": ["b"]}}}, ["figures.f.methods: 'b' is no velocity method",
                                                                  "valid: v"]),
    ({"figures": {"f": {"type": "velocity", "panel": 1}}}, ["unknown key 'panel' in figures.f", "valid: methods"]),
])
def test_bad_configurations_say_what_is_valid(tables, fragments):
    check(tables, *fragments)


def test_a_grid_over_keep_gives_one_run_per_seed_and_noise_level():
    experiment = expand(merge(BASE, {"grid": {"keep": [0.3, 0.5, 0.9], "seed": [0, 2],
                                              "data": {"label_noise": [0.0, 0.1]}, "method": ["v", "b"]}}))
    runs = [(r.method.label, r.seed, r.data.options.label_noise, r.keep) for r in experiment.runs]
    assert sorted(runs) == sorted((m, s, n, None) for m in "vb" for s in (0, 2) for n in (0.0, 0.1))
    velocity = next(r for r in experiment.runs if r.method.label == "v")
    assert score_need(velocity) is None  # the tracked run scores itself at every epoch
    cost = estimate(experiment.runs)
    assert {round(cost.runs[r.run_id], 6) for r in experiment.runs} == {3.0, 1 + 2 * (3 + 2)}  # tracked; parent
    assert not cost.scores


def test_independent_scoring_runs_are_charged_to_the_velocity_run_and_kept_apart_from_it():
    tables = {"methods": {"v": {"scores_from": "independent", "score_runs": 2, "score_seed": 5}}}
    (run,) = expand(merge(BASE, tables)).runs
    assert list(run.method.params.score_seeds()) == [5, 6] and score_need(run) is None
    assert estimate([run]).runs[run.run_id] == 3 + 2 * 2  # tracked epochs, then 2 runs to epoch 2
    defaults = expand(merge(BASE, {"methods": {"v": {"scores_from": "independent"}}})).runs[0].method.params
    assert (defaults.score_runs, defaults.score_seed) == (1, 1)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """Both recipes' tiny presets swept: name -> (experiment, folder, rows by (seed, label noise), rendered)."""
    out = {}
    for name in ("paper1_fig3_kernel_velocity", "paper1_fig4_error_barrier"):
        folder = tmp_path_factory.mktemp(name)
        experiment = load_recipe(RECIPES / f"{name}.toml", preset="tiny")
        summary = run_sweep(experiment, folder, progress=False)
        assert not summary.failed and len(summary.finished) == len(experiment.runs)
        with ResultStore(folder / "results.sqlite") as store:
            rows = {(r.config["seed"], r.config["data"]["label_noise"]): r for r in store.rows()}
        rendered = render_all(load_results(folder), folder / "rendered")
        out[name] = experiment, folder, rows, rendered
    return out


def record(folder, row, file: str) -> dict:
    return json.loads((folder / "runs" / row.run_id / file).read_text())


def test_velocity_runs_equal_the_librarys_tracked_velocity_for_their_seed(swept):
    experiment, folder, rows, _ = swept["paper1_fig3_kernel_velocity"]
    assert sorted(rows) == [(0, 0.0), (0, 0.1), (1, 0.0), (1, 0.1)]
    run = next(r for r in experiment.runs if (r.seed, r.data.options.label_noise) == (1, 0.1))
    train = run.data.load().train
    expected = tracked_velocity(run.model.build(train, run.seed), train, run.schedule(), track_epochs=2,
                                num_ranks=4, window=20, progress=False)
    saved = record(folder, rows[(1, 0.1)], "velocity.json")
    np.testing.assert_array_equal(np.array(saved["velocity"]), expected.velocity)
    assert saved["windows"] == expected.windows.tolist() and saved["windows"][0] != saved["windows"][1]
    assert saved["ranks"] == expected.ranks.tolist() == [0, 60, 120, 180] and saved["label_noise"] == 0.1
    assert saved["ranking"] == {"score": "el2n", "scores_from": "tracked", "seeds": [1],
                                "at": "each curve's first epoch"}
    metrics = rows[(1, 0.1)].metrics
    for e in range(2):
        assert metrics[f"velocity_bottom_decile_e{e}"] == expected.velocity[e, 0]
        assert metrics[f"velocity_top_decile_e{e}"] == expected.velocity[e, -1]
        assert metrics[f"velocity_mean_e{e}"] == pytest.approx(expected.velocity[e].mean(), rel=1e-12)
    assert metrics["analysis_seconds"] > 0 and metrics["num_train"] == 200


def test_the_dynamics_command_computes_the_same_velocities_for_the_same_seed(swept, tmp_path):
    _, folder, rows, _ = swept["paper1_fig3_kernel_velocity"]
    parser = argparse.ArgumentParser()
    dynamics_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args([
        "dynamics", "velocity", "--dataset", "digits", "--per-class", "20", "--label-noise", "0.1", "--model", "mlp",
        "--width", "0.25", "--epochs", "2", "--batch-size", "64", "--num-ranks", "4", "--window", "20",
        "--no-progress", "--out", str(tmp_path)])
    assert args.run(args) == 0
    (cli,) = json.loads((tmp_path / "velocity.json").read_text())["runs"]
    saved = record(folder, rows[(0, 0.1)], "velocity.json")
    assert cli["velocity"] == saved["velocity"] and cli["windows"] == saved["windows"]


def test_barrier_runs_equal_the_librarys_seeded_barriers_for_their_seed(swept):
    experiment, folder, rows, _ = swept["paper1_fig4_error_barrier"]
    assert sorted(rows) == [(0, 0.0), (1, 0.0)]
    run = next(r for r in experiment.runs if r.seed == 1)
    splits = run.data.load()
    expected = seeded_spawn_barriers(run.model.build(splits.train, 1), splits.train, run.schedule(), [0, 1],
                                     score_epoch=1, subset_size=30, alphas=alpha_grid(3), bn_examples=64,
                                     test_data=splits.test, progress=False)
    saved = record(folder, rows[(1, 0.0)], "barrier.json")
    assert {k: saved[k] for k in expected.to_dict()} == expected.to_dict()
    assert saved["child_seeds"] == [3, 4] and saved["bn_recompute"] is True
    metrics = rows[(1, 0.0)].metrics
    assert {k: v for k, v in metrics.items() if k.startswith("barrier_")} == {
        f"barrier_{name}_spawn{t}": b for name, values in expected.barriers.items()
        for t, b in zip(expected.spawn_epochs, values)}
    for name, errors in saved["errors"].items():  # paper 1, eq. 5 from the errors the run kept
        for t, row in zip(saved["spawn_epochs"], errors):
            assert metrics[f"barrier_{name}_spawn{t}"] == pytest.approx(naive_error_barrier(row, saved["alphas"]))


def test_figures_show_the_mean_over_seeds_of_the_runs_json(swept):
    for name, file, column in (("paper1_fig3_kernel_velocity", "velocity.json", "velocity"),
                               ("paper1_fig4_error_barrier", "barrier.json", "barriers")):
        _, folder, rows, rendered = swept[name]
        ((entry, figure),) = rendered  # no accuracy curves: the runs are analyses
        assert entry["type"] in ("velocity", "barrier") and not figure.notes
        assert all(p.read_bytes().startswith(b"\x89PNG") for p in figure.images) and len(figure.images) == 1
        (table,) = figure.tables
        saved = {key: record(folder, row, file)[column] for key, row in rows.items()}
        if column == "velocity":
            mean = np.mean([saved[(0, 0.1)], saved[(1, 0.1)]], axis=0)
            row = next(r for r in table.rows if r[:2] == ["10% label noise", "1\u21922"])
            assert row[2:] == [*(f"{v:.4f}" for v in mean[1]), "2"]
        else:
            mean = np.mean([saved[(0, 0.0)]["highest"], saved[(1, 0.0)]["highest"]], axis=0)
            row = next(r for r in table.rows if r[0] == "highest")
            assert [cell.split(" ")[0] for cell in row[1:-1]] == [f"{v:.3f}" for v in mean] and row[-1] == "2"
        assert len(plot_experiment(load_results(folder))) == 1


def _stopped(*args, **kwargs):
    raise OSError("stopped")  # stands for a process killed after the first children's training


def test_a_barrier_run_stopped_in_its_measurement_resumes_its_training(swept, tmp_path, monkeypatch):
    _, folder, rows, _ = swept["paper1_fig4_error_barrier"]
    recipe = read_recipe(RECIPES / "paper1_fig4_error_barrier.toml")
    one_seed = expand(merge(recipe, {"presets": {"tiny": {"grid": {"seed": [1]}}}}), preset="tiny", base_dir=RECIPES)
    with monkeypatch.context() as patch:
        patch.setattr(barrier_module, "interpolation_errors", _stopped)
        assert run_sweep(one_seed, tmp_path, progress=False).failed
    (run,) = one_seed.runs
    training = tmp_path / "runs" / run.run_id / "training"
    assert {p.parent.name for p in training.glob("*/checkpoint.pt")} == {"parent", "child-e0-s3", "child-e0-s4"}
    assert not run_sweep(one_seed, tmp_path, progress=False).failed
    assert not training.exists()
    assert record(tmp_path, run, "barrier.json") == record(folder, rows[(1, 0.0)], "barrier.json")
