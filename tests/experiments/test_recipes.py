"""Every shipped recipe: end to end on its tiny preset, its cpu preset within its time budget on real data,
its paper preset with the papers' settings, and a header that says how to run it and what to expect."""

from __future__ import annotations

import re

import pytest

from datadiet.experiments import estimate, expand, load_recipe, load_results, run_sweep, score_need, write_report
from datadiet.experiments.recipe import merge, read_recipe
from datadiet.recipes import FOLDER as RECIPES_DIR
from datadiet.recipes import list_recipes

RECIPES = list_recipes()
PAPER_DATASETS = {"cifar10", "cifar100", "cinic10"}
STAND_INS = {"cifar100", "cinic10", "vgg16"}  # what the cpu presets cannot use: their headers say so


def test_the_recipes_are_found():
    assert len(RECIPES) >= 20 and "paper2_fig2" in RECIPES and "paper1_fig1_bottom" in RECIPES


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_runs_end_to_end_on_its_tiny_preset(name, recipes, tmp_path):
    experiment = load_recipe(recipes / f"{name}.toml", preset="tiny")
    summary = run_sweep(experiment, tmp_path, progress=False)
    assert not summary.failed and len(summary.finished) == len(experiment.runs)
    results = load_results(tmp_path)
    assert {p.method["label"] for p in results.points()} == {r.method.label for r in experiment.runs}
    text = write_report(tmp_path).read_text()
    assert "<em>" not in text, re.findall(r"<em>(.*?)</em>", text)  # no figure is missing an input
    images = text.count("<img")
    trained = any(not r.method.params.analysis for r in experiment.runs)  # analysis runs have no main figure
    assert images >= trained + len(experiment.figures) and images >= 1
    assert {f.name for f in experiment.figures} == set(results.info["resolved"].get("figures", {}))


def test_paper2_charges_el2n_its_scoring_and_places_infobatch_at_its_realized_rate(recipes, tmp_path):
    experiment = load_recipe(recipes / "paper2_fig2.toml", preset="tiny")
    run_sweep(experiment, tmp_path, progress=False)
    points = {p.series: p for p in load_results(tmp_path).points()}
    assert points["el2n"].metrics["static_scoring_seconds"][0] > 0
    assert points["el2n"].metrics["scoring_seconds"][0] >= points["el2n"].metrics["static_scoring_seconds"][0]
    assert points["ucb"].metrics["scoring_seconds"][0] > 0  # its scoring passes
    assert 0 < points["infobatch"].pruned < 0.5 and points["infobatch"].keep is None


def _data_and_models(experiment) -> tuple[set, set]:
    """Every dataset (with its folder) and network the runs and the score sets (proxies included) use."""
    needs = experiment.figure_needs() + [n for n in map(score_need, experiment.runs) if n is not None]
    data = {r.data for r in experiment.runs} | {n.data for n in needs}
    models = {r.model for r in experiment.runs} | {n.model for n in needs}
    return data, models


CPU_PRESETS = [(name, preset) for name in RECIPES for preset in read_recipe(RECIPES_DIR / f"{name}.toml")["presets"]
               if preset.startswith("cpu")]


def test_every_recipe_has_a_cpu_preset():
    assert {name for name, preset in CPU_PRESETS if preset == "cpu"} == set(RECIPES)


@pytest.mark.parametrize(("name", "preset"), CPU_PRESETS)
def test_cpu_presets_fit_in_30_minutes_on_real_data_and_thin_networks(name, preset, recipes):
    experiment = load_recipe(recipes / f"{name}.toml", preset=preset)
    minutes = estimate(experiment.runs, experiment.figure_needs()).total() * experiment.epoch_seconds / 60
    assert minutes <= 30, minutes  # epoch_seconds is measured over whole sweeps: start-up and evaluation included
    data, models = _data_and_models(experiment)
    assert {d.dataset for d in data} <= {"fashion-mnist", "mnist1d"}
    assert {d.data_dir for d in data} == {None}  # the folder is --data-dir's: recipes assume no layout
    assert all(m.name in ("small_cnn", "basic_cnn", "cnn1d") or m.width <= 0.125 for m in models)
    assert {r.seed for r in experiment.runs} <= {0, 1, 2, 3}


@pytest.mark.parametrize("name", RECIPES)
def test_paper_preset_has_the_papers_settings(name, recipes):
    experiment = load_recipe(recipes / f"{name}.toml", preset="paper")
    data, models = _data_and_models(experiment)
    assert {d.dataset for d in data} <= PAPER_DATASETS
    assert {m.name for m in models} <= {"resnet18", "resnet50", "vgg16", "basic_cnn"}
    assert all(m.width == 1.0 for m in models)
    schedules = [r.schedule() for r in experiment.runs] + [n.schedule for n in experiment.figure_needs()]
    assert {s.epochs for s in schedules} <= {200, 100} and schedules
    for s in schedules:
        assert (s.lr, s.momentum, s.nesterov, s.weight_decay) == (0.1, 0.9, True, 5e-4)
        assert (s.lr_milestones, s.lr_gamma) == ((0.3, 0.6, 0.8), 0.2)
    cinic = {d.dataset for d in data} == {"cinic10"}
    assert {s.batch_size for s in schedules} == {256 if cinic else 128}
    if experiment.runs:
        assert {r.seed for r in experiment.runs} == {0, 1, 2, 3}


@pytest.mark.parametrize("name", RECIPES)
def test_header_states_the_commands_the_runtimes_and_the_papers_claim(name, recipes):
    lines = (recipes / f"{name}.toml").read_text().splitlines()
    header = "\n".join(lines[:next(i for i, line in enumerate(lines) if not line.startswith("#"))])
    for fragment in (f"datadiet sweep {name} --preset cpu", "--preset paper", "Expected runtime:",
                     "#   cpu   ", "#   paper ", "#   tiny  "):
        assert fragment in header, fragment
    assert "What the paper reports" in header or "What the paper tests" in header
    paper = load_recipe(recipes / f"{name}.toml", preset="paper")
    data, models = _data_and_models(paper)
    if ({d.dataset for d in data} | {m.name for m in models}) & STAND_INS:
        assert "CPU stand-in" in header


def test_readme_lists_every_recipe_with_its_command(recipes):
    readme = (recipes / "README.md").read_text()
    for name in RECIPES:
        assert f"`{name}.toml`" in readme and f"datadiet sweep {name} --preset cpu" in readme, name


@pytest.mark.slow
@pytest.mark.parametrize("name", RECIPES)
def test_cpu_preset_on_a_slice_of_the_real_data(name, recipes, fashion_dir, tmp_path):
    """The cpu preset as written (real files, its networks), on 20 examples per class, one seed."""
    recipe = read_recipe(recipes / f"{name}.toml")
    cpu = expand(recipe, preset="cpu", base_dir=recipes)
    if "fashion-mnist" not in {r.data.dataset for r in cpu.runs} | {n.data.dataset for n in cpu.figure_needs()}:
        pytest.skip("its cpu preset does not read Fashion-MNIST")
    recipe = merge(recipe, {"presets": {"cpu": {"base": {"data": {"per_class": 20, "data_dir": str(fashion_dir)}},
                                                 "grid": {"seed": [0]}}}})
    if name == "paper1_fig4_error_barrier":  # 200 examples hold no subsets of 1000
        recipe = merge(recipe, {"presets": {"cpu": {"methods": {"barrier": {"subset_size": 50}}}}})
    summary = run_sweep(expand(recipe, preset="cpu"), tmp_path, progress=False)
    assert not summary.failed
