"""The method kinds and budgets beyond the headline figures, checked against the library's own rules and loop
references: paper 2's Table 1 (the top k by a dynamic run's final checkpoint scores; always + sometimes), dynamic
policies on static scores (its App. B) and started from them, the equal-samples budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import naive_count, naive_ema_variance, naive_keep_highest, naive_static_ucb

from datadiet.dynamic import DynamicPruner, fit_selection_mixture, pool_counts
from datadiet.experiments import ResultStore, ScoreCache, expand, run_sweep, score_need
from datadiet.experiments import executors
from datadiet.experiments.checkpoint_scores import CheckpointScoresCallback, load_checkpoint_scores
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
SOMETIMES = {"methods": {"table1_sometimes": {"kind": "always_sometimes", "source": "ucb", "source_seeds": [0, 1],
                                            "fill": "sometimes"}},
             "grid": {"method": ["table1", "table1_sometimes"]}}
N, K = 300, 150  # digits, 30 per class; keep 0.5 (the fitted always set must fit in K: it does at this seed)


def rows_by(out) -> dict:
    with ResultStore(out / "results.sqlite") as store:
        rows = store.rows()
    return {(r.config["method"]["label"], r.config["method"].get("mode"), r.config["seed"]): r for r in rows}


def counts(out, row) -> np.ndarray:
    return np.load(out / "runs" / row.run_id / "selection_counts.npy")


def test_the_dynamic_arm_fills_from_every_example_not_always_or_from_the_sometimes_set():
    from datadiet.experiments.kinds.always_sometimes import fill_pool

    groups = {"always": np.array([4, 0]), "sometimes": np.array([5, 1, 2]), "never": np.array([6, 3])}
    assert fill_pool(groups, "rest").tolist() == [i for i in range(7) if i not in (0, 4)]  # METHODS: "the rest"
    assert fill_pool(groups, "sometimes").tolist() == [1, 2, 5]


def test_always_sometimes_runs_after_its_source_on_the_groups_of_the_fitted_mixture(tmp_path):
    experiment = expand(merge(BASE, SOMETIMES))
    assert sorted((r.method.label, r.seed) for r in experiment.runs) == [  # the source runs join the sweep
        ("table1", 0), ("table1", 0), ("table1_sometimes", 0), ("ucb", 0), ("ucb", 1)]
    summary = run_sweep(experiment, tmp_path, progress=False)
    assert not summary.failed
    rows = rows_by(tmp_path)
    sources = [tmp_path / "runs" / rows[("ucb", None, s)].run_id for s in (0, 1)]
    pooled, upper = pool_counts([np.load(d / "selection_counts.npy") for d in sources], [3, 3])
    groups = fit_selection_mixture(pooled, upper).groups(pooled)
    row = rows[("table1", "dynamic", 0)]
    saved = np.load(tmp_path / "runs" / row.run_id / "groups.npz")
    for name in ("always", "sometimes", "never"):
        np.testing.assert_array_equal(saved[name], groups[name])
    c = counts(tmp_path, row)  # the paper's dynamic row: always, plus a fresh draw from all the rest
    assert (c[groups["always"]] == 3).all() and c.sum() == 3 * K
    assert row.metrics["num_always"] == len(groups["always"]) and row.metrics["samples_seen"] == 3 * K
    assert len(set(np.unique(c[groups["sometimes"]]).tolist()) - {0, 3}) > 0  # a fresh draw at each checkpoint
    only = counts(tmp_path, rows[("table1_sometimes", "dynamic", 0)])  # fill = "sometimes": never drawn
    assert (only[groups["always"]] == 3).all() and (only[groups["never"]] == 0).all() and only.sum() == 3 * K

    # the paper's static row: the top k by the source runs' final checkpoint scores, the same at every checkpoint
    finals = [load_checkpoint_scores(d) for d in sources]
    assert [epoch for _, epoch in finals] == [2, 2]  # the last of the 3 checkpoints
    mean = [(float(a) + float(b)) / 2 for a, b in zip(finals[0][0], finals[1][0])]
    static = counts(tmp_path, rows[("table1", "static", 0)])
    assert set(np.flatnonzero(static == 3).tolist()) == set(naive_keep_highest(mean, K))
    assert set(np.unique(static).tolist()) == {0, 3} and static.sum() == 3 * K


@pytest.mark.parametrize("policy, options", [("uncertainty-ema", {"alpha": 0.8}), ("ucb", {"alpha": 0.6, "c": 2.0})])
def test_checkpoint_scores_are_the_priority_of_the_final_selection(tmp_path, policy, options):
    """The callback keeps, at each checkpoint, what the selection ranked by: the loss EMA (+ c var for UCB)."""
    n, epochs, g = 50, 5, torch.Generator().manual_seed(0)
    losses = [torch.rand(n, generator=g) * 3 for _ in range(epochs)]
    pruner = DynamicPruner(n, policy=policy, policy_options=options, keep=0.4, period=2, epochs=epochs,
                           warmup_epochs=0, class_balanced=False)
    callback = CheckpointScoresCallback(pruner, tmp_path)
    for epoch in range(epochs):
        if pruner.needs_scores(epoch):
            pruner.score_all(losses[epoch])
        pruner.set_epoch(epoch)
        callback.on_epoch_start(epoch, None)
        callback.on_epoch_end(epoch, None)
    scores, epoch = load_checkpoint_scores(tmp_path)
    ema, var = naive_ema_variance([losses[e].numpy() for e in (0, 2, 4)], options["alpha"])
    expected = [e + options.get("c", 0.0) * v for e, v in zip(ema, var)]
    assert epoch == 4 and np.allclose(scores.numpy(), expected, rtol=1e-5)
    assert sorted(pruner.selection.tolist()) == naive_keep_highest(expected, naive_count(0.4, n))


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


def test_egreedy_and_ucb_on_static_el2n_rank_by_the_scores_alone_and_pay_for_them(tmp_path):
    """Paper 2, App. B: "EL2N + epsilon-greedy" re-selects (1 - eps) k by EL2N and eps k at random at every
    checkpoint, "EL2N + UCB" keeps the k highest mean + c var over the score runs; no training loss, no pass."""
    table = {"kind": "dynamic", "period": 1, "warmup_epochs": 0, "class_balanced": False, "init_from": "el2n"}
    recipe = merge(BASE, {
        "methods": {"el2n": {"kind": "static", "score": "el2n", "at": 1, "runs": 3},
                    "eg": {**table, "policy": "static-egreedy", "eps": 0.25},
                    "ub": {**table, "policy": "static-ucb", "c": 5.0}},
        "grid": {"method": ["eg", "ub"]}})
    experiment = expand(recipe)
    run_sweep(experiment, tmp_path, progress=False)
    rows = rows_by(tmp_path)
    scores, record = ScoreCache(tmp_path / "cache" / "scores").load(score_need(experiment.runs[0]).key)
    runs = scores.runs.tolist()
    greedy = naive_keep_highest(scores.mean.tolist(), K - naive_count(0.25, K))  # 0.25 x 150 = 37.5 explore 38
    eg = counts(tmp_path, rows[("eg", None, 0)])
    assert (eg[greedy] == 3).all() and eg.sum() == 3 * K and (eg == 3).sum() < K  # explored afresh each time
    assert len(greedy) == 112 and (eg == 3).sum() >= 112
    ub = counts(tmp_path, rows[("ub", None, 0)])
    assert naive_static_ucb(runs, 5.0, K) != naive_keep_highest(scores.mean.tolist(), K)  # the spread matters
    assert set(np.flatnonzero(ub == 3).tolist()) == set(naive_static_ucb(runs, 5.0, K))
    assert set(np.unique(ub).tolist()) == {0, 3}  # a fixed subset
    for label in ("eg", "ub"):
        metrics = rows[(label, None, 0)].metrics
        assert metrics["scoring_forward"] == 0 and metrics["static_scoring_seconds"] == record["seconds"] > 0


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
    ({"methods": {"table1": {"fill": "never"}}}, "unknown fill 'never'; valid: rest, sometimes"),
    ({"methods": {"table1": {"source_seeds": []}}}, "source_seeds must be a non-empty list"),
    ({"methods": {"ucb": {"period": [1, 2]}}}, "method 'ucb' has 2 variants"),
    ({"base": {"budget": "steps"}}, 'set budget = "epochs" or "samples"'),
    ({"methods": {"f": {"kind": "static", "score": "forgetting"}, "ucb": {"init_from": "f"}},
      "grid": {"method": ["ucb"]}}, "starts from finite scores"),
    ({"methods": {"r": {"kind": "dynamic", "policy": "random", "init_from": "ucb"}}}, "uses no scores to start from"),
    ({"methods": {"ucb": {"init_from": "table1"}, "table1": {"mode": "static"}}, "grid": {"method": ["ucb"]}},
     "is of kind 'always_sometimes'"),
    ({"methods": {"s": {"kind": "dynamic", "policy": "static-ucb"}}}, "ranks by static scores: name their static"),
    ({"methods": {"ucb": {"policy": "nope"}}}, "infobatch, static-egreedy, static-ucb, static-topk"),
    ({"methods": {"r": {"kind": "dynamic", "policy": "random"}, "table1": {"source": "r", "mode": "static"}}},
     "policy 'random' ranks by no training losses"),
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


@pytest.mark.parametrize(("policy", "warmup"), [("infobatch", 0), ("ucb", 1), ("random", 1)])
def test_a_dynamic_method_without_a_warmup_takes_its_policys(policy, warmup):
    """InfoBatch selects from the first epoch (its paper's rule); the paper-2 policies warm up for one epoch."""
    from datadiet.experiments.methods import parse_method

    assert parse_method("m", {"kind": "dynamic", "policy": policy}).params.warmup_epochs == warmup
    assert parse_method("m", {"kind": "dynamic", "policy": policy, "warmup_epochs": 2}).params.warmup_epochs == 2


@pytest.mark.parametrize("budget", ["epochs", "steps"])
def test_a_shorter_full_run_trains_its_own_epochs_and_is_measured_against_full_data(tmp_path, budget):
    """``full`` with ``epochs``: all the data for fewer epochs, the schedule compressed; it is one more method,
    its compute over full data's, and never the reference."""
    from datadiet.experiments import load_results
    from datadiet.experiments.figures.costs import costed

    recipe = merge(BASE, {"base": {"budget": budget, "epochs": 2}, "methods": {"short": {"kind": "full", "epochs": 1}},
                          "grid": {"method": ["full", "short"]}})
    experiment = expand(recipe)
    assert sorted(r.trainer_config(N).to_dict()["epochs" if budget == "epochs" else "steps"]
                  for r in experiment.runs) == ([1, 2] if budget == "epochs" else [5, 10])
    run_sweep(experiment, tmp_path, progress=False)
    by_label = {r.config["method"]["label"]: r for r in ResultStore(tmp_path / "results.sqlite").rows()}
    assert by_label["short"].metrics["samples_seen"] == N and by_label["full"].metrics["samples_seen"] == 2 * N
    points = {c.point.series: c for c in costed(load_results(tmp_path).points(), "samples")}
    assert points["full"].point.is_reference and not points["short"].point.is_reference
    assert points["full"].ratio == 1.0 and points["short"].ratio == pytest.approx(0.5)
    assert points["short"].point.pruned == pytest.approx(0.5)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        expand(merge(recipe, {"methods": {"short": {"epochs": 0}}}))


def test_a_dynamic_method_scores_in_its_precision(tmp_path):
    """``score_precision = "bf16"`` reaches the pruning callback and the run's identity; the default leaves the
    identity of earlier runs as it was; an unknown precision is refused."""
    from types import SimpleNamespace

    from torch.utils.data import TensorDataset

    from datadiet.experiments.kinds.base import Plan, PlanContext
    from datadiet.experiments.kinds.dynamic import with_pruner
    from datadiet.experiments.methods import parse_method

    default = parse_method("u", {"kind": "dynamic", "policy": "ucb"})
    bf16 = parse_method("u", {"kind": "dynamic", "policy": "ucb", "score_precision": "bf16"})
    assert "score_precision" not in default.to_dict() and bf16.to_dict()["score_precision"] == "bf16"
    with pytest.raises(ValueError, match="unknown score_precision 'fp16'; valid: fp32, bf16"):
        parse_method("u", {"kind": "dynamic", "policy": "ucb", "score_precision": "fp16"})
    train = TensorDataset(torch.zeros(20, 2), torch.zeros(20, dtype=torch.long))
    for method, expected in ((default, "fp32"), (bf16, "bf16")):
        pruner = method.params.pruner(20, keep=0.5, seed=0, epochs=3, labels=None)
        plan = with_pruner(Plan(), pruner, method.params, SimpleNamespace(train=train), PlanContext(tmp_path, None))
        assert plan.callbacks[0].score_precision == expected
    experiment = expand(merge(BASE, {"methods": {"ucb": {"score_precision": "bf16"}}, "grid": {"method": ["ucb"]}}))
    summary = run_sweep(experiment, tmp_path / "sweep", progress=False)
    assert not summary.failed and len(summary.finished) == 1
