"""Grid expansion: cartesian products, presets, per-method alternatives, duplicates, identities and paths."""

from __future__ import annotations

import itertools
import json

import pytest

from datadiet.experiments import expand, load_recipe
from datadiet.experiments.recipe import grid_points, merge, tomllib
from datadiet.experiments.values import config_hash


BASE = {
    "base": {"budget": "epochs", "epochs": 3, "seed": 0, "method": "random", "keep": 0.5,
             "data": {"dataset": "digits"}, "model": {"name": "mlp"}},
}


def recipe(**tables) -> dict:
    return merge(BASE, tables)


def test_grid_is_the_cartesian_product_first_key_slowest():
    grid = {"seed": [0, 1, 2], "keep": [0.3, 0.7], "data": {"label_noise": [0.0, 0.1]}}
    points = grid_points(grid)
    expected = itertools.product([0, 1, 2], [0.3, 0.7], [0.0, 0.1])
    assert [(p[("seed",)], p[("keep",)], p[("data", "label_noise")]) for p in points] == list(expected)
    runs = expand(recipe(grid=grid)).runs
    assert [(r.seed, r.keep, r.data.options.label_noise) for r in runs] == [
        (p[("seed",)], p[("keep",)], p[("data", "label_noise")]) for p in points]


def test_an_empty_grid_is_the_base_run():
    (run,) = expand(recipe()).runs
    assert (run.method.kind, run.keep, run.seed, run.epochs) == ("random", 0.5, 0, 3)


def test_full_data_ignores_keep_so_one_run_per_seed_serves_every_fraction():
    runs = expand(recipe(grid={"seed": [0, 1], "keep": [0.2, 0.5, 0.9], "method": ["full", "random"]})).runs
    full = [r for r in runs if r.method.kind == "full"]
    assert [(r.seed, r.keep) for r in full] == [(0, None), (1, None)]
    assert len([r for r in runs if r.method.kind == "random"]) == 6
    assert len({r.run_id for r in runs}) == len(runs) == 8


def test_list_values_in_a_method_table_are_alternatives_of_that_method_only():
    methods = {"ib": {"kind": "dynamic", "policy": "infobatch", "r": [0.3, 0.6]},
               "ucb": {"kind": "dynamic", "policy": "ucb", "c": [0.5, 2]}}
    runs = expand(recipe(methods=methods, grid={"keep": [0.4, 0.6], "method": ["ib", "ucb"]})).runs
    ib = [r for r in runs if r.method.label == "ib"]
    ucb = [r for r in runs if r.method.label == "ucb"]
    assert sorted(r.method.params.options["r"] for r in ib) == [0.3, 0.6]  # no keep: two runs, not four
    assert all(r.keep is None for r in ib)
    assert sorted((r.keep, r.method.params.options["c"]) for r in ucb) == [(0.4, 0.5), (0.4, 2.0), (0.6, 0.5),
                                                                          (0.6, 2.0)]


def test_presets_merge_tables_key_by_key_and_replace_lists(tiny_text):
    text = tiny_text + """
[presets.small.base.data]
per_class = 10
[presets.small.methods.el2n]
runs = 1
[presets.small.grid]
seed = [7]
"""
    plain = expand(_toml(text))
    small = expand(_toml(text), preset="small")
    assert {r.seed for r in small.runs} == {7} and {r.seed for r in plain.runs} == {0, 1}
    assert {r.data.options.per_class for r in small.runs} == {10}
    el2n = next(r for r in small.runs if r.method.label == "el2n")
    assert (el2n.method.params.runs, el2n.method.params.at) == (1, 1)  # merged, not replaced
    assert {r.keep for r in small.runs if r.keep is not None} == {0.5, 0.8}  # grid keys not in the preset stay
    assert small.preset == "small" and "presets" not in small.resolved


def test_a_preset_extends_another_preset_of_the_recipe(tiny_text):
    text = tiny_text + """
[presets.small.base.data]
per_class = 10
[presets.small.grid]
seed = [7]
[presets.longer]
extends = "small"
[presets.longer.base]
epochs = 3
[presets.longer.grid]
method = ["full"]
"""
    longer = expand(_toml(text), preset="longer")
    assert {(r.seed, r.data.options.per_class, r.epochs, r.method.label) for r in longer.runs} == {
        (7, 10, 3, "full")}
    assert expand(_toml(text), preset="small").runs[0].epochs == 2  # the extended preset is unchanged


def test_run_id_hashes_the_stored_configuration_and_ignores_where_the_data_is(tmp_path):
    run = expand(recipe()).runs[0]
    stored = json.loads(json.dumps(run.to_dict()))
    assert config_hash(stored) == run.run_id
    moved = expand(recipe(base={"data": {"data_dir": str(tmp_path)}})).runs[0]
    assert moved.run_id == run.run_id and moved.data.data_dir == str(tmp_path)


def test_integers_and_floats_normalize_to_the_same_identity():
    a = expand(recipe(base={"keep": 1, "train": {"lr": 1, "lr_milestones": [0.5]}})).runs[0]
    b = expand(recipe(base={"keep": 1.0, "train": {"lr": 1.0, "lr_milestones": [0.5]}})).runs[0]
    assert a.run_id == b.run_id and isinstance(a.keep, float) and isinstance(a.train["lr"], float)


def test_defaults_are_resolved_into_the_identity():
    run = expand(recipe(methods={"u": {"kind": "dynamic", "policy": "ucb"}}, base={"method": "u"})).runs[0]
    method = run.to_dict()["method"]
    assert method["options"] == {"alpha": 0.8, "c": 1.0, "variance": "raw", "clip": None}
    assert method["class_balanced"] is True and method["warmup_epochs"] == 1
    assert run.train["batch_size"] == 128 and run.train["weight_decay"] == 5e-4


def test_relative_data_dir_is_relative_to_the_recipe_and_can_be_overridden(tmp_path, tiny_text, write_recipe):
    (tmp_path / "sub").mkdir()
    path = write_recipe(tmp_path / "sub", tiny_text.replace('per_class = 20', 'per_class = 20\ndata_dir = "../data"'))
    assert {r.data.data_dir for r in load_recipe(path).runs} == {str(tmp_path / "data")}
    elsewhere = load_recipe(path, data_dir=tmp_path / "other", download=True)
    assert {(r.data.data_dir, r.data.download) for r in elsewhere.runs} == {(str(tmp_path / "other"), True)}
    assert [r.run_id for r in elsewhere.runs] == [r.run_id for r in load_recipe(path).runs]


def test_budgets_give_the_papers_protocols():
    steps = expand(recipe(base={"budget": "steps", "train": {"batch_size": 32}})).runs[0]
    assert steps.trainer_config(100).steps == 3 * 4  # epochs * ceil(N / batch), whatever the subset
    epochs = expand(recipe()).runs[0]
    assert epochs.trainer_config(100).epochs == 3 and epochs.trainer_config(100).steps is None


def _toml(text: str) -> dict:
    return tomllib.loads(text)


@pytest.mark.parametrize("name", ["paper1_fig1_bottom", "paper2_fig2"])
@pytest.mark.parametrize("preset", ["paper", "cpu", "tiny"])
def test_headline_recipes_expand_under_every_preset(name, preset, recipes):
    experiment = load_recipe(recipes / f"{name}.toml", preset=preset)
    assert experiment.runs and experiment.description
    assert len({r.run_id for r in experiment.runs}) == len(experiment.runs)


def test_a_recipe_extends_another_by_merging_its_tables_over_it(tmp_path, tiny_text, write_recipe):
    (tmp_path / "sub").mkdir()
    write_recipe(tmp_path, tiny_text, "parent.toml")
    child = write_recipe(tmp_path / "sub", """
extends = "../parent.toml"
[experiment]
description = "a variant"
[base.data]
label_noise = 0.1
[methods.el2n]
at = 2
[grid]
method = ["full", "el2n"]
""", "child.toml")
    experiment = load_recipe(child)
    assert experiment.name == "tiny" and experiment.description == "a variant"  # the parent's name, its own text
    assert {r.data.options.label_noise for r in experiment.runs} == {0.1}
    assert {(r.method.label, getattr(r.method.params, "at", None)) for r in experiment.runs} == {("full", None),
                                                                                              ("el2n", 2)}
    assert "extends" not in experiment.resolved and experiment.resolved["methods"]["el2n"]["runs"] == 2


def test_extends_errors_name_the_files(tmp_path, write_recipe):
    a = write_recipe(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write_recipe(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ValueError, match=r"recipes extend each other in a cycle: a.toml -> b.toml -> a.toml"):
        load_recipe(a)
    lost = write_recipe(tmp_path, 'extends = "nowhere.toml"\n', "lost.toml")
    with pytest.raises(FileNotFoundError, match="nowhere.toml does not exist"):
        load_recipe(lost)
    with pytest.raises(ValueError, match="extends names a recipe file"):
        expand({"extends": "a.toml"})
