"""The benchmark of every method with its total compute: its tiny preset swept, every static run charged what its
scores, embeddings and selection cost, the rules on embeddings fed the first score run's penultimate features, the
options of a selection rule or a score written in a recipe table, and the accuracy-compute figure and table on a
hand-made results set."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from datadiet.experiments import ScoreCache, load_recipe, load_results, run_sweep, score_need, write_report
from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures import render_entry
from datadiet.experiments.layout import SUBSET_FILE
from datadiet.experiments.methods import parse_method
from datadiet.experiments.store import ResultStore
from datadiet.files import write_json
from datadiet.recipes import list_recipes
from datadiet.scores import get_score
from datadiet.selection import get_rule, load_subset, select
from datadiet.training import trainer_fn
from reference import loop_example_el2n, loop_sequential_features, naive_accuracy_compute, naive_scoring_samples

EMBEDDING_RULES = ("kcenter", "herding", "facility_location", "d2", "prototypes", "moderate")


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The tiny preset swept once: (experiment, folder, {run id: run}, rows)."""
    out = tmp_path_factory.mktemp("benchmark")
    experiment = load_recipe("benchmark_all_methods", preset="tiny")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = run_sweep(experiment, out, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert not summary.failed, summary.failed
    return experiment, out, {r.run_id: r for r in experiment.runs}, load_results(out).rows


def test_the_tiny_preset_runs_every_score_of_the_registry_and_every_rule(swept):
    experiment, _, _, rows = swept
    static = [r.method.params for r in experiment.runs if r.method.kind == "static"]
    from datadiet.scores import list_scores
    from datadiet.selection import list_rules

    assert {p.score for p in static} == set(list_scores())
    assert {p.rule for p in static} >= {"keep_highest", "ccs", *EMBEDDING_RULES}
    assert set(list_rules()) - {p.rule for p in static} <= {"keep_lowest", "sliding_window", "random"}
    assert len(rows) == len(experiment.runs)


def test_every_static_run_is_charged_its_scores_embeddings_and_selection(swept):
    """Seconds: the score set's record plus the rule's selection; samples: R runs trained to the time point, a
    model score's pass, the embedding pass (the reference counts them from the method's definition)."""
    _, out, runs, rows = swept
    cache = ScoreCache(out / "cache" / "scores")
    charged = 0
    for row in rows:
        run, m = runs[row.run_id], row.metrics
        assert m["total_seconds"] == pytest.approx(m["train_seconds"] + m["scoring_seconds"])
        if run.method.kind != "static":
            assert m["static_scoring_samples"] == 0 and m["static_scoring_seconds"] == 0
            continue
        params, need = run.method.params, score_need(run)
        _, record = cache.load(need.key)
        kind = get_score(params.score).kind
        expected = naive_scoring_samples(kind, params.time_point(run.epochs), params.runs, params.uses_embeddings,
                                         m["num_train"])
        assert m["static_scoring_samples"] == record["samples"] == expected, run.method.label
        assert m["static_scoring_seconds"] == pytest.approx(record["seconds"] + m["selection_seconds"])
        assert m["scoring_seconds"] >= m["static_scoring_seconds"] and m["selection_seconds"] >= 0
        assert record["seconds"] > 0 or kind == "data", run.method.label
        charged += expected > 0
    assert charged == sum(runs[r.run_id].method.kind == "static" for r in rows) - 1  # all but input_norm


def test_the_rules_on_embeddings_take_the_penultimate_features_of_the_first_score_run(swept):
    """The cached embeddings are the last Linear's inputs of the seed-0 network trained to the EL2N epoch, the
    network whose EL2N is the set's first run (recomputed here one example at a time)."""
    experiment, out, _, _ = swept
    run = next(r for r in experiment.runs if r.method.label == "d2")
    need = score_need(run)
    assert need.embed and need.runs == 2 and [p.embed for p in need.parts()] == [True, False]
    train = run.data.load().train
    network = run.model.build(train, need.seed0)
    trainer_fn(train, need.schedule)(network, need.seed0, need.at, [])
    examples = [(train.x[i], train.y[i]) for i in range(len(train))]
    cache = ScoreCache(out / "cache" / "scores")
    embeddings = cache.embeddings(need.key, len(train))
    features = loop_sequential_features(network.layers, train.x, upto=len(network.layers) - 1)
    assert np.allclose(embeddings, features.numpy(), atol=1e-5)
    scores, _ = cache.load(need.key)
    assert np.allclose(scores.runs[0], loop_example_el2n(network, examples), atol=1e-5)
    kcenter = score_need(next(r for r in experiment.runs if r.method.label == "kcenter"))
    assert np.array_equal(cache.embeddings(kcenter.key, len(train)), embeddings)  # one part, shared


@pytest.mark.parametrize("label", [*EMBEDDING_RULES, "el2n_ccs", "forgetting_ccs", "el2n"])
def test_each_rule_chose_from_the_cached_inputs_with_its_options(swept, label):
    experiment, out, _, _ = swept
    run = next(r for r in experiment.runs if r.method.label == label)
    params, train = run.method.params, run.data.load().train
    cache = ScoreCache(out / "cache" / "scores")
    key = score_need(run).key
    rule = get_rule(params.rule)
    options = {name: getattr(params, name) if name in ("offset", "beta", "strata", "class_balanced")
               else params.rule_options[name] for name in rule.options}
    expected = select(cache.load(key)[0].mean, run.keep, rule=params.rule, seed=run.seed if rule.random else None,
                      labels=train.y.numpy() if "labels" in rule.needs else None,
                      embeddings=cache.embeddings(key, len(train)) if params.uses_embeddings else None, **options)
    chosen = load_subset(out / "runs" / run.run_id / SUBSET_FILE).positions(train)
    assert np.array_equal(np.sort(chosen), expected)
    if label == "prototypes":
        assert params.rule_options["clusters"] == 10


def test_new_options_are_no_part_of_the_identity_until_set():
    """Runs recorded before score and rule options existed keep their ids: the identity of every shipped recipe's
    static method (and of the static scores a dynamic method starts from) is its parameters as they were."""

    def before(params) -> dict:
        return {k: v for k, v in dataclasses.asdict(params).items() if k not in ("score_options", "rule_options")}

    checked = 0
    for name in list_recipes():
        for run in load_recipe(name, preset="tiny").runs:
            method, params = run.to_dict()["method"], run.method.params
            if run.method.kind == "dynamic" and params.init_scores is not None:
                method, params = method["init_scores"], params.init_scores
            elif run.method.kind != "static":
                continue
            if not params.score_options and not params.rule_options:
                checked += 1
                assert {k: v for k, v in method.items() if k not in ("label", "kind")} == before(params)
    assert checked > 50
    shown = parse_method("m", {"kind": "static", "score": "el2n", "rule": "d2", "k": 4}).to_dict()
    assert shown["rule_options"] == {"k": 4, "gamma": 1.0, "gamma_forward": 1.0} and "score_options" not in shown


@pytest.mark.parametrize(("table", "message"), [
    ({"rule": "prototypes"}, "rule 'prototypes' needs the option 'clusters'"),
    ({"rule": "kcenter", "clusters": 3}, "unknown key 'clusters' in methods.m; valid: score, at"),
    ({"rule": "d2", "k": 2.5}, "k must be an integer, got 2.5"),
    ({"rule": "kcenter", "score": "input_norm"}, "rule 'kcenter' takes the embeddings of the scoring network"),
    ({"score": "dyn_unc", "at": 4}, "score 'dyn_unc' needs a recording of at least 10 epochs, its runs stop at "
                                    "epoch 4"),
    ({"score": "tdds", "at": 4, "score_options": {"window": 3, "decay": 2, "size": 1}},
     "score 'tdds' takes no option size"),
    ({"rule_options": {"k": 3}}, "unknown key 'rule_options' in methods.m"),
])
def test_a_bad_option_is_a_one_line_error_naming_it(table, message):
    with pytest.raises(ValueError) as error:
        parse_method("m", {"kind": "static", "score": "el2n", **table})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_windowed_score_recorded_over_the_whole_run_is_checked_against_the_schedule():
    method = parse_method("m", {"kind": "static", "score": "dual"})  # at: the end of the run's schedule
    from datadiet.experiments.config import DataConfig, ModelConfig

    with pytest.raises(ValueError, match="needs a recording of at least 10 epochs, its runs stop at epoch 4"):
        RunConfig(method, DataConfig("digits"), ModelConfig("mlp"), seed=0, epochs=4, budget="epochs", keep=0.5)


# --- the figure and its table on a hand-made results set ---------------------------------------------------------

def _config(label: str, kind: str, keep: float | None, seed: int, **method) -> dict:
    return {"method": {"label": label, "kind": kind, **method}, "keep": keep, "seed": seed, "budget": "epochs",
            "epochs": 4, "data": {"dataset": "digits"}, "model": {"name": "mlp", "width": 1.0}, "train": {}}


ROWS = [  # (label, kind, method options, keep, seed, accuracy, seconds, trained, scoring passes, static samples)
    ("full", "full", {}, None, 0, 0.90, 10.0, 4000, 0, 0), ("full", "full", {}, None, 1, 0.92, 12.0, 4000, 0, 0),
    ("random", "random", {}, 0.5, 0, 0.80, 5.0, 2000, 0, 0), ("random", "random", {}, 0.5, 1, 0.84, 6.0, 2000, 0, 0),
    ("el2n", "static", {"rule": "keep_highest"}, 0.5, 0, 0.88, 14.0, 2000, 0, 3000),
    ("el2n", "static", {"rule": "keep_highest"}, 0.5, 1, 0.86, 15.0, 2000, 0, 3000),
    ("el2n", "static", {"rule": "keep_highest"}, 0.3, 0, 0.70, 12.0, 1200, 0, 3000),
    ("kcenter", "static", {"rule": "kcenter"}, 0.5, 0, 0.83, 30.0, 2000, 0, 2000),
    ("ucb", "dynamic", {"policy": "ucb"}, 0.5, 0, 0.89, 8.0, 2500, 2000, 0),
    ("infobatch", "dynamic", {"policy": "infobatch", "options": {"r": 0.3}}, None, 0, 0.91, 9.0, 3400, 0, 0),
    ("infobatch", "dynamic", {"policy": "infobatch", "options": {"r": 0.5}}, None, 0, 0.90, 8.5, 3000, 0, 0),
]


@pytest.fixture
def handmade(tmp_path):
    """An experiment folder with the runs of :data:`ROWS` (1,000 training examples, 4 epochs)."""
    ids = []
    with ResultStore(tmp_path / "results.sqlite") as store:
        for i, (label, kind, method, keep, seed, acc, seconds, trained, passes, static) in enumerate(ROWS):
            metrics = {"test_accuracy": acc, "total_seconds": seconds, "train_seconds": seconds / 2,
                       "scoring_seconds": seconds / 2, "samples_forward": trained, "samples_seen": trained,
                       "scoring_forward": passes, "static_scoring_samples": static, "num_train": 1000}
            ids.append(f"run{i}")
            store.insert(ids[-1], _config(label, kind, keep, seed, **method), metrics)
    write_json(tmp_path / "experiment.json", {
        "name": "handmade", "preset": None, "description": "", "recipe": None, "resolved": {}, "run_ids": ids,
        "plot": {"x": "pruned", "panels": ["accuracy"], "methods": []}, "version": "0", "updated": "now",
        "figures": [_entry("samples")]})
    return tmp_path


def _entry(compute: str) -> dict:
    return {"name": "compute", "type": "accuracy_compute", "settings": {"methods": [], "compute": compute},
            "scores": {}, "data": None}


@pytest.mark.parametrize("compute", ["wallclock", "samples"])
def test_the_table_gives_accuracy_mean_std_and_compute_ratio_per_method_and_fraction(handmade, compute):
    rendered = render_entry(_entry(compute), load_results(handmade), handmade / "figures")
    assert [p.name for p in rendered.images] == ["handmade-compute.png"] and not rendered.notes
    (table,) = rendered.tables
    assert table.headers == ["method", "50% pruned", "70% pruned", "own size"]
    cells = {row[0]: row[1:] for row in table.rows}
    reference = naive_accuracy_compute(
        [{"label": label + (f" (r={m['options']['r']})" if "options" in m else ""), "keep": keep, "accuracy": acc,
          "metrics": {"total_seconds": sec, "samples_forward": trained, "scoring_forward": passes,
                      "static_scoring_samples": static}}
         for label, _, m, keep, _, acc, sec, trained, passes, static in ROWS], compute)
    for (label, keep), (mean, std, ratio) in reference.items():
        cell = f"{mean:.2f} ± {std:.2f} ({ratio:.2f}x)"
        column = {0.5: 0, 0.3: 1, None: 2}[keep]
        assert cells[label][column].startswith(cell), (label, keep, cells[label])
    assert cells["el2n"][1] == f"70.00 ± 0.00 ({'1.09' if compute == 'wallclock' else '1.05'}x)"
    assert cells["infobatch (r=0.3)"][2].endswith("at 15%") and cells["full"][2].endswith("at 0%")
    assert [row[0] for row in table.rows][:2] == ["full", "random"]  # references first, then by family


def test_the_report_shows_the_figure_and_its_table(handmade):
    text = write_report(handmade).read_text()
    assert "Figure compute (accuracy compute)" in text and "Accuracy and total compute" in text
    assert "87.00 ± 1.41" in text and "<em>" not in text


def test_a_figure_without_full_data_is_refused():
    from datadiet.experiments import expand

    recipe = {"base": {"budget": "epochs", "epochs": 2, "seed": 0, "keep": 0.5, "data": {"dataset": "digits"},
                       "model": {"name": "mlp"}}, "grid": {"method": ["random"]},
              "figures": {"c": {"type": "accuracy_compute"}}}
    with pytest.raises(ValueError, match="compute is relative to full data; add a full-data method"):
        expand(recipe)
    recipe["figures"]["c"]["compute"] = "flops"
    with pytest.raises(ValueError, match="compute must be one of wallclock, samples, got 'flops'"):
        expand(recipe)
