"""The two headline recipes: end to end on their tiny preset, and the cpu preset within its time budget."""

from __future__ import annotations

import pytest

from datadiet.experiments import estimate, expand, load_recipe, load_results, run_sweep, write_report
from datadiet.experiments.recipe import merge, read_recipe

SHARED_FASHION = "shared/data/fashion-mnist"


@pytest.mark.parametrize("name, methods, panels", [
    ("paper1_fig1_bottom", {"full", "random", "grand_init", "el2n", "forgetting"}, 1),
    ("paper2_fig2", {"full", "random", "el2n", "random_dynamic", "uncertainty_ema", "egreedy", "ucb", "infobatch"}, 2),
])
def test_headline_recipe_runs_end_to_end_on_the_tiny_preset(name, methods, panels, recipes, tmp_path):
    experiment = load_recipe(recipes / f"{name}.toml", preset="tiny")
    summary = run_sweep(experiment, tmp_path, progress=False)
    assert not summary.failed and len(summary.finished) == len(experiment.runs) == len(methods)
    results = load_results(tmp_path)
    assert {p.series for p in results.points()} == methods
    assert len(results.info["plot"]["panels"]) == panels
    assert "<img" in write_report(tmp_path).read_text()


def test_paper2_charges_el2n_its_scoring_and_places_infobatch_at_its_realized_rate(recipes, tmp_path):
    experiment = load_recipe(recipes / "paper2_fig2.toml", preset="tiny")
    run_sweep(experiment, tmp_path, progress=False)
    points = {p.series: p for p in load_results(tmp_path).points()}
    assert points["el2n"].metrics["static_scoring_seconds"][0] > 0
    assert points["el2n"].metrics["scoring_seconds"][0] >= points["el2n"].metrics["static_scoring_seconds"][0]
    assert points["ucb"].metrics["scoring_seconds"][0] > 0  # its scoring passes
    assert 0 < points["infobatch"].pruned < 0.5 and points["infobatch"].keep is None


@pytest.mark.parametrize("name", ["paper1_fig1_bottom", "paper2_fig2"])
def test_cpu_preset_fits_in_30_minutes_and_reads_the_shared_fashion_mnist(name, recipes):
    experiment = load_recipe(recipes / f"{name}.toml", preset="cpu")
    minutes = estimate(experiment.runs).total() * experiment.epoch_seconds / 60
    assert minutes < 25, minutes  # leaves room for evaluation and start-up
    assert {r.data.data_dir for r in experiment.runs} == {str(recipes.parent.parent / SHARED_FASHION)}
    assert {r.model.name for r in experiment.runs} == {"small_cnn"} and {r.seed for r in experiment.runs} == {0, 1}


@pytest.mark.parametrize("name", ["paper1_fig1_bottom", "paper2_fig2"])
def test_paper_preset_has_the_papers_settings(name, recipes):
    runs = load_recipe(recipes / f"{name}.toml", preset="paper").runs
    assert {(r.data.dataset, r.model.name, r.epochs) for r in runs} == {("cifar10", "resnet18", 200)}
    assert {r.seed for r in runs} == {0, 1, 2, 3}
    train = runs[0].train
    assert (train["batch_size"], train["lr"], train["momentum"], train["nesterov"], train["weight_decay"]) == (
        128, 0.1, 0.9, True, 5e-4)
    assert (train["lr_milestones"], train["lr_gamma"]) == ((0.3, 0.6, 0.8), 0.2)
    static = {r.method.label: r.method.params for r in runs if r.method.kind == "static"}
    assert static["el2n"].at == 20 and static["el2n"].runs == 10


@pytest.mark.slow
@pytest.mark.parametrize("name", ["paper1_fig1_bottom", "paper2_fig2"])
def test_cpu_preset_on_a_slice_of_fashion_mnist(name, recipes, fashion_dir, tmp_path):
    """The cpu preset as written (real files, small_cnn), on 20 examples per class, one seed, one fraction."""
    recipe = merge(read_recipe(recipes / f"{name}.toml"), {"presets": {"cpu": {
        "base": {"data": {"per_class": 20, "data_dir": str(fashion_dir)}}, "grid": {"seed": [0], "keep": [0.5]}}}})
    experiment = expand(recipe, preset="cpu")
    summary = run_sweep(experiment, tmp_path, progress=False)
    assert not summary.failed and summary.finished
