"""The method kinds and budgets beyond the headline figures, checked against the library's own rules:
always + sometimes (paper 2, Table 1), dynamic policies started from static scores, the equal-samples budget."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet.dynamic import fit_selection_mixture, pool_counts
from datadiet.experiments import ResultStore, ScoreCache, expand, run_sweep, score_need
from datadiet.experiments import executors
from datadiet.experiments.recipe import merge
from datadiet.selection import keep_highest, select

BASE = {
    "base": {"budget": "epochs", "epochs": 3, "seed": 0, "keep": 0.5, "data": {"dataset": "digits", "per_class": 30},
             "model": {"name": "mlp", "width": 0.25}, "train": {"batch_size": 64}},
    "methods": {"ucb": {"kind": "dynamic", "policy": "ucb", "period": 1, "warmup_epochs": 0, "class_balanced": False},
                "table1": {"kind": "always_sometimes", "source": "ucb", "source_seeds": [0, 1],
                           "mode": ["static", "dynamic"]}},
    "grid": {"method": ["table1"]},
}
N, K = 300, 150  # digits, 30 per class; keep 0.5 (the fitted always set must fit in K: it does at this seed)


def rows_by(out) -> dict:
    with ResultStore(out / "results.sqlite") as store:
        rows = store.rows()
    return {(r.config["method"]["label"], r.config["method"].get("mode"), r.config["seed"]): r for r in rows}


def counts(out, row) -> np.ndarray:
    return np.load(out / "runs" / row.run_id / "selection_counts.npy")


def test_always_sometimes_runs_after_its_source_on_the_groups_of_the_fitted_mixture(tmp_path):
    experiment = expand(BASE)
    assert sorted((r.method.label, r.seed) for r in experiment.runs) == [  # the source runs join the sweep
        ("table1", 0), ("table1", 0), ("ucb", 0), ("ucb", 1)]
    summary = run_sweep(experiment, tmp_path, progress=False)
    assert not summary.failed
    rows = rows_by(tmp_path)
    pooled, upper = pool_counts([counts(tmp_path, rows[("ucb", None, s)]) for s in (0, 1)], [3, 3])
    groups = fit_selection_mixture(pooled, upper).groups(pooled)
    for mode in ("static", "dynamic"):
        row = rows[("table1", mode, 0)]
        saved = np.load(tmp_path / "runs" / row.run_id / "groups.npz")
        for name in ("always", "sometimes", "never"):
            np.testing.assert_array_equal(saved[name], groups[name])
        c = counts(tmp_path, row)
        assert (c[groups["always"]] == 3).all() and (c[groups["never"]] == 0).all() and c.sum() == 3 * K
        assert row.metrics["num_always"] == len(groups["always"]) and row.metrics["samples_seen"] == 3 * K
        drawn = set(np.unique(c[groups["sometimes"]]).tolist())
        assert drawn == {0, 3} if mode == "static" else len(drawn - {0, 3}) > 0  # one draw, or one per checkpoint


def test_a_failed_source_run_fails_the_runs_that_need_it(tmp_path, monkeypatch):
    perform = executors.perform

    def failing(task):
        if getattr(task, "run", None) is not None and task.run.method.label == "ucb" and task.run.seed == 1:
            raise RuntimeError("out of memory")
        return perform(task)

    monkeypatch.setattr(executors, "perform", failing)
    summary = run_sweep(expand(BASE), tmp_path, progress=False)
    assert len(summary.finished) == 1 and len(summary.failed) == 3
    assert sum("required run" in message for message in summary.failed.values()) == 2


def test_a_policy_started_from_static_scores_makes_its_first_selection_from_them(tmp_path):
    recipe = merge(BASE, {
        "base": {"epochs": 1},
        "methods": {"el2n": {"kind": "static", "score": "el2n", "at": 1, "runs": 2},
                    "ema": {"kind": "dynamic", "policy": "uncertainty-ema", "period": 1, "warmup_epochs": 0,
                            "class_balanced": False, "init_from": "el2n"}},
        "grid": {"method": ["ema"]}})
    experiment = expand(recipe)
    (run,) = experiment.runs
    assert run.method.params.init_scores.score == "el2n" and score_need(run).runs == 2
    run_sweep(experiment, tmp_path, progress=False)
    row = rows_by(tmp_path)[("ema", None, 0)]
    scores, record = ScoreCache(tmp_path / "cache" / "scores").load(score_need(run).key)
    chosen = np.flatnonzero(counts(tmp_path, row))
    np.testing.assert_array_equal(chosen, keep_highest(scores.mean, 0.5))
    assert row.metrics["scoring_forward"] == 0  # no scoring pass: the static scores made the selection
    assert row.metrics["static_scoring_seconds"] == record["seconds"] > 0  # and the run pays for them


def test_equal_samples_budget_stretches_the_epochs_and_the_schedule(tmp_path):
    recipe = merge(BASE, {"base": {"budget": "samples", "epochs": 2},
                          "grid": {"method": ["full", "random", "ucb"], "keep": [0.5, 0.25]}})
    experiment = expand(recipe)
    assert {r.budget for r in experiment.runs if r.method.kind == "full"} == {"epochs"}  # no size: the same run
    assert sorted(r.train_epochs for r in experiment.runs) == [2, 4, 4, 8, 8]
    run_sweep(experiment, tmp_path, progress=False)
    with ResultStore(tmp_path / "results.sqlite") as store:
        rows = store.rows()
    for row in rows:
        assert row.metrics["samples_seen"] == 2 * N, row.config["method"]["label"]
        assert row.metrics["trainer_config"]["lr_milestones"] == [0.3, 0.6, 0.8]  # fractions: stretched
    assert sorted(r.metrics.get("num_checkpoints", 0) for r in rows) == [0, 0, 0, 4, 8]


@pytest.mark.parametrize("tables, message", [
    ({"methods": {"table1": {"source": "nope"}}}, "method 'nope' is not defined"),
    ({"methods": {"x": {"kind": "random"}, "table1": {"source": "x"}}}, "'x' is of kind 'random', not 'dynamic'"),
    ({"methods": {"ib": {"kind": "dynamic", "policy": "infobatch"}, "table1": {"source": "ib"}}}, "sets its own size"),
    ({"methods": {"table1": {"mode": "sometimes"}}}, "unknown mode 'sometimes'; valid: static, dynamic"),
    ({"methods": {"table1": {"source_seeds": []}}}, "source_seeds must be a non-empty list"),
    ({"methods": {"ucb": {"period": [1, 2]}}}, "method 'ucb' has 2 variants"),
    ({"base": {"budget": "steps"}}, 'set budget = "epochs" or "samples"'),
    ({"methods": {"f": {"kind": "static", "score": "forgetting"}, "ucb": {"init_from": "f"}},
      "grid": {"method": ["ucb"]}}, "starts from finite scores"),
    ({"methods": {"r": {"kind": "dynamic", "policy": "random", "init_from": "ucb"}}}, "uses no scores to start from"),
    ({"methods": {"ucb": {"init_from": "table1"}, "table1": {"mode": "static"}}, "grid": {"method": ["ucb"]}},
     "is of kind 'always_sometimes'"),
])
def test_bad_references_say_what_is_wrong(tables, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand(merge(BASE, tables))


@pytest.mark.parametrize("rule", [{"rule": "sliding_window", "offset": 0.5}, {"rule": "ccs", "beta": 0.1}])
def test_a_policy_that_sets_its_own_size_starts_from_scores_of_a_rule_with_fractions(rule):
    experiment = expand(merge(BASE, {
        "methods": {"s": {"kind": "static", "score": "el2n", **rule},
                    "ib": {"kind": "dynamic", "policy": "infobatch", "init_from": "s"}},
        "grid": {"method": ["ib"]}}))
    (run,) = experiment.runs
    assert run.keep is None and run.method.params.init_scores.rule == rule["rule"]


def test_a_list_parameter_takes_a_list_of_lists_as_alternatives():
    one = expand(BASE)
    assert {r.method.params.source_seeds for r in one.runs if r.method.kind == "always_sometimes"} == {(0, 1)}
    two = expand(merge(BASE, {"methods": {"table1": {"source_seeds": [[0], [0, 1]], "mode": "static"}}}))
    assert {r.method.params.source_seeds for r in two.runs if r.method.kind == "always_sometimes"} == {(0,), (0, 1)}


def test_a_recipe_selects_with_any_registered_rule_from_a_recorded_score(tmp_path):
    recipe = merge(BASE, {
        "methods": {"aum": {"kind": "static", "score": "aum", "runs": 1, "rule": "ccs", "beta": 0.1, "strata": 4}},
        "grid": {"method": ["aum"]}})
    experiment = expand(recipe)
    (run,) = experiment.runs
    run_sweep(experiment, tmp_path, progress=False)
    scores, _ = ScoreCache(tmp_path / "cache" / "scores").load(score_need(run).key)
    subset = np.load(tmp_path / "runs" / rows_by(tmp_path)[("aum", None, 0)].run_id / "subset.npy")
    assert scores.method == "aum" and scores.time == "epoch 3"
    expected = select(scores.mean, 0.5, rule="ccs", beta=0.1, strata=4, seed=0)
    np.testing.assert_array_equal(subset, run.data.load().train.index.numpy()[expected])  # original indices
