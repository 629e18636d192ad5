"""Recipe validation: unknown keys name the key and list the valid ones; bad values say what is valid."""

from __future__ import annotations

import pytest

from datadiet.experiments import expand, load_recipe
from datadiet.experiments.recipe import merge
from datadiet.selection import list_rules

BASE = {
    "base": {"budget": "epochs", "epochs": 3, "seed": 0, "method": "random", "keep": 0.5,
             "data": {"dataset": "digits"}, "model": {"name": "mlp"}},
}


def check(tables: dict, *fragments: str, preset: str | None = None) -> None:
    """Expanding BASE merged with ``tables`` raises ValueError whose message contains every fragment."""
    with pytest.raises(ValueError) as error:
        expand(merge(BASE, tables), preset=preset)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


@pytest.mark.parametrize("tables, key, valid", [
    ({"bogus": {}}, "'bogus' in the recipe", "extends, experiment, base, grid, methods, plot, figures, presets"),
    ({"experiment": {"nme": "x"}}, "'nme' in experiment", "name, description, epoch_seconds"),
    ({"base": {"seeds": 1}}, "'seeds' in the run configuration", "method, keep, seed, budget, epochs"),
    ({"base": {"data": {"noise": 0.1}}}, "'noise' in data", "dataset, data_dir, label_noise, imbalance"),
    ({"base": {"model": {"depth": 18}}}, "'depth' in model", "name, width"),
    ({"base": {"train": {"learning_rate": 0.1}}}, "'learning_rate' in train", "batch_size, lr, momentum"),
    ({"base": {"train": {"epochs": 5}}}, "'epochs' in train", "batch_size, lr"),
    ({"grid": {"seedz": [0]}}, "'seedz' in grid", "method, keep, seed"),
    ({"grid": {"train": {"lrr": [0.1]}}}, "'lrr' in train", "lr"),
    ({"plot": {"y": "acc"}}, "'y' in plot", "x, panels"),
    ({"methods": {"s": {"kind": "static", "score": "el2n", "window": 0.1}}, "base": {"method": "s"}},
     "'window' in methods.s", "score, at, runs, score_seed, rule, offset, beta, strata, class_balanced"),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb", "eps": 0.1}}, "base": {"method": "d"}},
     "'eps' in methods.d", "alpha, c, variance, clip"),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb", "options": {}}}, "base": {"method": "d"}},
     "'options' in methods.d", "period, warmup_epochs"),
    ({"presets": {"p": {"grids": {}}}}, "'grids' in presets.p", "experiment, base, grid, methods, plot"),
])
def test_unknown_keys_are_named_with_the_valid_ones(tables, key, valid):
    preset = "p" if "presets" in tables else None
    check(tables, f"unknown key {key}", valid, preset=preset)


@pytest.mark.parametrize("tables, fragments", [
    ({"base": {"keep": 1.5}}, ["keep, a fraction in (0, 1]", "1.5"]),
    ({"base": {"keep": "half"}}, ["keep must be a number"]),
    ({"base": {"budget": "time"}}, ["unknown budget 'time'", "steps, epochs"]),
    ({"base": {"epochs": 2.5}}, ["epochs must be an integer"]),
    ({"base": {"seed": -1}}, ["seed >= 0"]),
    ({"base": {"data": {"dataset": "cifar11"}}}, ["unknown dataset 'cifar11'", "cifar10"]),
    ({"base": {"data": {"label_noise": 1.2}}}, ["label_noise must be a fraction in [0, 1)"]),
    ({"base": {"model": {"name": "resnet19"}}}, ["unknown model 'resnet19'", "resnet18"]),
    ({"base": {"train": {"precision": "fp8"}}}, ["unknown precision 'fp8'", "bf16"]),
    ({"base": {"train": {"nesterov": 1}}}, ["train.nesterov must be true or false"]),
    ({"base": {"method": "nope"}}, ["method 'nope' is not defined", "[methods.nope]"]),
    ({"methods": {"x": {"kind": "prune"}}, "base": {"method": "x"}}, ["unknown method kind 'prune'",
                                                                     "full, random, static, dynamic"]),
    ({"methods": {"x": {"score": "el2n"}}, "base": {"method": "x"}}, ["method 'x': no kind given"]),
    ({"methods": {"s": {"kind": "static", "score": "el3n"}}, "base": {"method": "s"}},
     ["unknown score 'el3n'", "valid: ", "el2n", "forgetting"]),
    ({"methods": {"s": {"kind": "static"}}, "base": {"method": "s"}}, ["methods.s needs 'score'"]),
    ({"methods": {"s": {"kind": "static", "score": "el2n", "rule": "top"}}, "base": {"method": "s"}},
     ["unknown selection rule 'top'", ", ".join(list_rules())]),
    ({"methods": {"s": {"kind": "static", "score": "el2n", "at": 4}}, "base": {"method": "s"}},
     ["at = 4 is past the end of the 3-epoch schedule"]),
    ({"methods": {"s": {"kind": "static", "score": "forgetting", "at": 0}}, "base": {"method": "s"}},
     ["at must be at least 1"]),
    ({"methods": {"s": {"kind": "static", "score": "el2n", "rule": "sliding_window", "offset": 0.6}},
      "base": {"method": "s"}}, ["offset + keep <= 1"]),
    ({"methods": {"s": {"kind": "static", "score": "el2n", "rule": "ccs", "beta": 0.7}}, "base": {"method": "s"}},
     ["beta + keep <= 1"]),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucbb"}}, "base": {"method": "d"}},
     ["unknown policy 'ucbb'", "uncertainty-ema"]),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb", "c": -1}}, "base": {"method": "d"}}, ["c must be in"]),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb", "score_source": "grad"}}, "base": {"method": "d"}},
     ["unknown score_source 'grad'", "pass, batch"]),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb"}}, "base": {"method": "d", "budget": "steps"}},
     ['set budget = "epochs"']),
    ({"methods": {"d": {"kind": "dynamic", "policy": "ucb", "warmup_epochs": 3}}, "base": {"method": "d"}},
     ["no epoch left to prune"]),
    ({"methods": {"r": {"kind": "random", "class_balanced": "yes"}}, "base": {"method": "r"}},
     ["class_balanced must be true or false"]),
    ({"grid": {"keep": 0.5}}, ["grid.keep must be a non-empty list"]),
    ({"grid": {"keep": []}}, ["grid.keep must be a non-empty list"]),
    ({"plot": {"x": "time"}}, ["unknown plot.x 'time'", "pruned, keep"]),
    ({"plot": {"panels": ["loss"]}}, ["plot.panels must be a non-empty list of accuracy, wallclock"]),
])
def test_bad_values_say_what_is_valid(tables, fragments):
    check(tables, *fragments)


def test_missing_pieces_point_to_base_grid_or_preset():
    recipe = merge(BASE, {})
    del recipe["base"]["epochs"]
    with pytest.raises(ValueError, match="needs 'epochs' \\(in \\[base\\], \\[grid\\] or a preset\\)"):
        expand(recipe)


def test_unknown_preset_lists_the_recipes_presets():
    with pytest.raises(ValueError, match="unknown preset 'gpu'; this recipe has: cpu, tiny"):
        expand(merge(BASE, {"presets": {"cpu": {}, "tiny": {}}}), preset="gpu")


@pytest.mark.parametrize(("presets", "message"), [
    ({"a": {"extends": "b"}}, "presets.a extends 'b', which is not a preset of this recipe; it has: a"),
    ({"a": {"extends": ["b"]}}, "presets.a extends \\['b'\\], which is not a preset"),
    ({"a": {"extends": "b"}, "b": {"extends": "a"}}, "presets extend each other in a cycle: a -> b -> a"),
    ({"a": {"extends": "a"}}, "in a cycle: a -> a"),
])
def test_preset_extends_errors_name_the_presets(presets, message):
    with pytest.raises(ValueError, match=message):
        expand(merge(BASE, {"presets": presets}), preset="a")


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_recipe(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[base]\nseed = = 1\n")
    with pytest.raises(ValueError, match="bad.toml.*line 2"):
        load_recipe(bad)


FIGURES = {
    "base": {"data": {"label_noise": 0.1}},
    "methods": {"el2n": {"kind": "static", "score": "el2n", "at": 1, "runs": 2},
                "el2n_runs": {"kind": "static", "score": "el2n", "runs": [1, 2]},
                "ucb": {"kind": "dynamic", "policy": "ucb"}},
}


@pytest.mark.parametrize("figures, fragments", [
    ({"f": {"scores": ["el2n"]}}, ["figures.f: unknown figure type None", "curves, selection_counts, correlation"]),
    ({"f": {"type": "heatmap"}}, ["unknown figure type 'heatmap'", "stability, noise, gallery"]),
    ({"f": {"type": "noise", "scores": ["el2n"], "colour": "red"}}, ["unknown key 'colour' in figures.f", "bins"]),
    ({"f": {"type": "noise", "scores": ["el3n"]}}, ["figures.f.scores: method 'el3n' is not defined"]),
    ({"f": {"type": "noise", "scores": ["ucb"]}}, ["method 'ucb' is of kind 'dynamic', not 'static'"]),
    ({"f": {"type": "stability", "scores": ["el2n_runs"]}}, ["method 'el2n_runs' has 2 variants"]),
    ({"f": {"type": "correlation", "scores": ["el2n"]}}, ["needs at least two scores"]),
    ({"f": {"type": "gallery", "scores": ["el2n"], "count": 0}}, ["count >= 1"]),
    ({"f": {"type": "selection_counts"}}, ["figures.f: the experiment has no dynamic run"]),
    ({"f": {"type": "curves", "methods": ["ucb"]}}, ["figures.f.methods: no run uses 'ucb'; used: random"]),
    ({"f": {"type": "curves", "x": "method.at"}}, ["unknown figures.f.x 'method.at'", "pruned, keep, samples_seen"]),
    ({"f": {"type": "correlation", "scores": ["el2n", "late"]}},
     ["figures.f: method 'late' scores at epoch 5, past the end of the 3-epoch [base] schedule"]),
])
def test_bad_figures_say_what_is_wrong(figures, fragments):
    late = {"methods": {"late": {"kind": "static", "score": "el2n", "at": 5}}}
    check(merge(merge(FIGURES, late), {"figures": figures}), *fragments)


def test_scores_of_figures_need_a_complete_base_and_noise_needs_noisy_data():
    recipe = merge(BASE, merge(FIGURES, {"figures": {"n": {"type": "noise", "scores": ["el2n"]}}}))
    del recipe["base"]["model"], recipe["base"]["method"]
    with pytest.raises(ValueError, match=r"figures.n: its scores are computed on the \[base\] configuration, which "
                                         "is incomplete: the run configuration needs 'model'"):
        expand(recipe)
    clean = merge(recipe, {"base": {"model": {"name": "mlp"}, "data": {"label_noise": 0.0}}})
    with pytest.raises(ValueError, match=r"figures.n: the \[base\] data has no label noise"):
        expand(clean)


def test_an_analysis_recipe_has_no_runs_but_its_score_sets():
    recipe = merge(FIGURES, {"base": {"epochs": 2, "data": {"dataset": "digits"}, "model": {"name": "mlp"}},
                             "figures": {"n": {"type": "noise", "scores": ["el2n"]}}})
    experiment = expand(recipe)
    assert experiment.runs == () and [n.label for n in experiment.figure_needs()] == ["el2n at epoch 1, seeds 0-1"]
    with pytest.raises(ValueError, match="needs 'method'"):
        expand({k: v for k, v in recipe.items() if k != "figures"})
