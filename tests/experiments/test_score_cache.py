"""Static scores: computed once per key, shared by every run that needs them, their cost charged to each."""

from __future__ import annotations

import numpy as np

from datadiet.experiments import ResultStore, ScoreCache, expand, load_recipe, run_sweep, score_need
from datadiet.experiments import scoring
from datadiet.experiments.recipe import merge
from datadiet.scores import score_runs
from datadiet.training import trainer_fn

EL2N_ONLY = {
    "base": {"budget": "epochs", "epochs": 2, "seed": 0, "method": "el2n",
             "data": {"dataset": "digits", "per_class": 20}, "model": {"name": "mlp", "width": 0.25},
             "train": {"batch_size": 64}},
    "methods": {"el2n": {"kind": "static", "score": "el2n", "at": 1, "runs": 2}},
    "grid": {"seed": [0, 1], "keep": [0.5, 0.8]},
}


def counting(monkeypatch) -> list:
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(args[0])
        return score_runs(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_runs", wrapped)
    return calls


def test_scores_are_computed_once_and_charged_to_every_run(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    out = tmp_path / "out"
    summary = run_sweep(expand(EL2N_ONLY), out, progress=False)
    assert len(summary.finished) == 4 and calls == ["el2n", "el2n"]  # one call per run of the set
    (record_path,) = (out / "cache" / "scores").glob("*.json")
    cache = ScoreCache(out / "cache" / "scores")
    _, record = cache.load(record_path.stem)
    with ResultStore(out / "results.sqlite") as store:
        rows = store.rows()
    for row in rows:
        m = row.metrics
        assert m["score_key"] == record["key"] and record["seconds"] > 0
        assert m["static_scoring_seconds"] == record["seconds"] + m["selection_seconds"]  # the rule's time too
        assert m["scoring_seconds"] >= record["seconds"]
        assert m["total_seconds"] == m["train_seconds"] + m["scoring_seconds"]
        assert m["static_scoring_samples"] == 2 * (1 + 1) * m["num_train"]  # 2 runs x (1 epoch + 1 scoring pass)
    more = merge(EL2N_ONLY, {"grid": {"keep": [0.5, 0.8, 0.3]}})  # a new fraction later: scores reused
    summary = run_sweep(expand(more), out, progress=False)
    assert (summary.skipped, len(summary.finished), len(calls)) == (4, 2, 2)


def test_cached_scores_are_the_librarys_scores_and_runs_train_on_the_highest(tmp_path):
    out = tmp_path / "out"
    experiment = expand(EL2N_ONLY)
    run_sweep(experiment, out, progress=False)
    run = experiment.runs[0]
    need = score_need(run)
    cached, _ = ScoreCache(out / "cache" / "scores").load(need.key)
    train = run.data.load().train
    direct = score_runs("el2n", train, lambda seed: run.model.build(train, seed), trainer_fn(train, run.schedule()),
                        at=1, runs=2, seed0=0, progress=False)
    np.testing.assert_array_equal(cached.runs, direct.runs)
    assert cached.seeds == (0, 1) and cached.time == "epoch 1"
    for r in experiment.runs:
        subset = np.load(out / "runs" / r.run_id / "subset.npy")
        k = round(r.keep * len(train))
        highest = np.sort(np.argsort(cached.mean, kind="stable")[len(train) - k:])
        np.testing.assert_array_equal(subset, train.index.numpy()[highest])


def test_sets_that_share_seeds_share_their_parts(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    two_sets = merge(EL2N_ONLY, {"methods": {"el2n": {"runs": [2, 3]}}, "grid": {"seed": [0], "keep": [0.5]}})
    summary = run_sweep(expand(two_sets), tmp_path, progress=False)
    assert len(summary.finished) == 2 and len(calls) == 3  # seeds 0, 1, 2: seeds 0 and 1 serve both sets
    cache = ScoreCache(tmp_path / "cache" / "scores")
    sets = sorted((cache.load(p.stem) for p in cache.folder.glob("*.json")), key=lambda s: len(s[0].seeds))
    (two, two_record), (three, three_record) = sets
    np.testing.assert_array_equal(three.runs[:2], two.runs)
    assert three.seeds == (0, 1, 2) and three_record["seconds"] > two_record["seconds"]


def key(tables: dict) -> str:
    return score_need(expand(merge(EL2N_ONLY, tables)).runs[0]).key


def test_the_key_depends_on_what_determines_the_scores_only():
    reference = key({})
    assert key({"base": {"seed": 5}, "grid": {"keep": [0.3]}}) == reference  # retraining seed and fraction
    assert key({"methods": {"el2n": {"rule": "keep_lowest", "class_balanced": True}}}) == reference
    assert key({"base": {"data": {"data_dir": "/elsewhere"}}}) == reference
    for change in ({"methods": {"el2n": {"at": 2}}}, {"methods": {"el2n": {"runs": 3}}},
                   {"methods": {"el2n": {"score_seed": 1}}}, {"base": {"model": {"width": 0.5}}},
                   {"base": {"data": {"label_noise": 0.1}}}, {"base": {"train": {"lr": 0.05}}},
                   {"base": {"epochs": 3}}, {"methods": {"el2n": {"score": "loss"}}}):
        assert key(change) != reference, change


def test_scores_at_initialization_ignore_the_schedule_and_input_norm_ignores_the_model():
    init = {"methods": {"el2n": {"at": 0}}}
    assert key(init) == key(merge(init, {"base": {"epochs": 5, "train": {"lr": 0.01}}}))
    norm = {"methods": {"el2n": {"score": "input_norm"}}}
    assert key(norm) == key(merge(norm, {"base": {"model": {"width": 2.0}}, "methods": {"el2n": {"runs": 5}}}))


def test_the_headline_recipes_share_scores_across_seeds_and_fractions(recipes):
    experiment = load_recipe(recipes / "paper1_fig1_bottom.toml", preset="cpu")
    keys = {score_need(r).key for r in experiment.runs if score_need(r) is not None}
    assert len(keys) == 4  # GraNd at init (running and batch statistics), EL2N at epoch 1, forgetting at the end


def test_proxy_scores_are_computed_with_the_proxy_whatever_network_is_trained(tmp_path):
    proxy = {"methods": {"el2n": {"proxy": "small_cnn", "proxy_width": 0.25}}, "grid": {"seed": [0], "keep": [0.5]}}
    experiment = expand(merge(EL2N_ONLY, proxy))
    (run,) = experiment.runs
    need = score_need(run)
    assert (need.model.name, need.model.width, run.model.name) == ("small_cnn", 0.25, "mlp")
    assert key(proxy) == key(merge(proxy, {"base": {"model": {"width": 0.5}}})) != key({})
    run_sweep(experiment, tmp_path, progress=False)
    cached, _ = ScoreCache(tmp_path / "cache" / "scores").load(need.key)
    train = run.data.load().train
    direct = score_runs("el2n", train, lambda seed: need.model.build(train, seed), trainer_fn(train, run.schedule()),
                        at=1, runs=2, seed0=0, progress=False)
    np.testing.assert_array_equal(cached.runs, direct.runs)
    assert cached.model == "small_cnn"
