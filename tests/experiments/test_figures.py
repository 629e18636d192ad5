"""The figure types of a finished experiment: every number they show equals the library's analysis of the cached
scores and counts (the oracles), galleries pick the right images, and missing inputs are said, not raised."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from datadiet.analysis import averaging_stability, correlation_matrix, noise_detection
from datadiet.dynamic import fit_selection_mixture, pool_counts
from datadiet.experiments import ScoreCache, expand, load_results, run_sweep
from datadiet.experiments.figures import render_all, render_entry
from datadiet.experiments.figures.gallery import pixels

RECIPE = {
    "base": {"budget": "epochs", "epochs": 2, "seed": 0, "keep": 0.5,
             "data": {"dataset": "digits", "per_class": 20, "label_noise": 0.2},
             "model": {"name": "mlp", "width": 0.25}, "train": {"batch_size": 64}},
    "methods": {"el2n": {"kind": "static", "score": "el2n", "at": 1, "runs": 3},
                "grand": {"kind": "static", "score": "grand", "at": 0, "runs": 2},
                "forgetting": {"kind": "static", "score": "forgetting", "runs": 2},
                "ucb": {"kind": "dynamic", "policy": "ucb", "period": 1, "warmup_epochs": 0, "class_balanced": False}},
    "grid": {"seed": [0, 1], "method": ["ucb"]},
    "figures": {"corr": {"type": "correlation", "scores": ["el2n", "grand", "forgetting"]},
                "stab": {"type": "stability", "scores": ["el2n"]},
                "noise": {"type": "noise", "scores": ["el2n"]},
                "gallery": {"type": "gallery", "scores": ["el2n"], "count": 2, "classes": [0, 3]},
                "counts": {"type": "selection_counts"}},
}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The experiment, its folder after the sweep, and what each figure rendered (by name; "" = main)."""
    out = tmp_path_factory.mktemp("figures")
    experiment = expand(RECIPE)
    summary = run_sweep(experiment, out, progress=False)  # one torch thread: tests/conftest.py
    assert not summary.failed and len(summary.scored) == 3 + 2 + 2
    results = load_results(out)
    rendered = {entry["name"]: r for entry, r in render_all(results, out / "figures")}
    return experiment, results, rendered


def scores(swept, label):
    experiment, results, _ = swept
    figure = next(f for f in experiment.figures if label in f.scores)
    return ScoreCache(results.folder / "cache" / "scores").load(figure.scores[label].key)[0]


def test_every_figure_renders_its_images(swept):
    _, _, rendered = swept
    assert set(rendered) == {"", "corr", "stab", "noise", "gallery", "counts"}
    assert all(r.images and not r.notes for r in rendered.values())
    assert all(path.is_file() and path.read_bytes().startswith(b"\x89PNG") for r in rendered.values()
               for path in r.images)


def test_correlations_are_the_librarys(swept):
    names, matrix = correlation_matrix({label: scores(swept, label).mean for label in ("el2n", "grand", "forgetting")})
    (table,) = swept[2]["corr"].tables
    assert table.headers == ["scores", *names]
    assert table.rows == [[name, *(f"{v:.3f}" for v in row)] for name, row in zip(names, matrix)]


def test_stability_is_the_librarys(swept):
    rho = averaging_stability(scores(swept, "el2n").runs)
    (table,) = swept[2]["stab"].tables
    assert table.rows == [[str(k + 1), f"{r:.3f}"] for k, r in enumerate(rho)] and rho[-1] == pytest.approx(1.0)


def test_noise_detection_is_the_librarys_against_both_masks(swept):
    s = scores(swept, "el2n")
    changed = s.noise_mask & (s.labels != s.clean_labels)
    found = noise_detection(s.mean, s.noise_mask, changed_mask=changed)
    (table,) = swept[2]["noise"].tables
    (row,) = table.rows
    assert row[:3] == ["el2n", "0.200", str(int(changed.sum()))]
    assert row[3:] == [f"{found[c]:.3f}" for c in ("auc", "precision", "recall", "auc_changed", "precision_changed",
                                                    "recall_changed")]


def test_gallery_shows_the_lowest_and_highest_of_each_class(swept):
    experiment, _, rendered = swept
    s = scores(swept, "el2n")
    train = experiment.figures[3].data.load().train
    (table,) = rendered["gallery"].tables
    for row, c in zip(table.rows, (0, 3)):
        ranked = sorted((s.mean[i], i) for i in range(len(s.mean)) if train.y[i] == c)  # ties: by position
        lowest = [train.index[i].item() for _, i in ranked[:2]]
        highest = [train.index[i].item() for _, i in ranked[::-1][:2]]
        assert row == [train.classes[c], " ".join(map(str, lowest)), " ".join(map(str, highest))]


def test_selection_counts_are_pooled_over_seeds_and_fitted_by_the_library(swept):
    experiment, results, rendered = swept
    runs = [r for r in experiment.runs if r.method.label == "ucb"]
    counts = [np.load(results.folder / "runs" / r.run_id / "selection_counts.npy") for r in runs]
    pooled, upper = pool_counts(counts, [2, 2])
    fit = fit_selection_mixture(pooled, upper)
    groups = fit.groups(pooled)
    (table,) = rendered["counts"].tables
    (row,) = table.rows
    assert row[:5] == ["ucb", "0.5", "2", "4", str(len(fit.names))]
    mean_count = np.arange(upper + 1) @ fit.pmf  # of each component
    for cell, name in zip(row[5:], ("never", "sometimes", "always")):  # a group the fit lacks: "- / - / 0"
        mine = np.asarray(fit.names) == name
        w = fit.weights[mine]
        assert cell == (f"{w.sum():.2f} / {w @ mean_count[mine] / w.sum():.1f} / {len(groups[name])}" if mine.any()
                        else "- / - / 0")


def test_a_figure_whose_scores_are_missing_says_so(swept, tmp_path):
    _, results, _ = swept
    entry = next(e for e in results.info["figures"] if e["name"] == "noise")
    missing = {**entry, "scores": {"el2n": {**entry["scores"]["el2n"], "key": "0" * 16}}}
    rendered = render_entry(missing, results, tmp_path)
    assert not rendered.images
    assert "scores 'el2n' (el2n at epoch 1, seeds 0-2) are not computed yet" in rendered.notes[0]


def test_pixels_undo_the_normalization_and_refuse_non_images(swept, blobs):
    experiment = swept[0]
    train = experiment.figures[3].data.load().train
    images = pixels(train)
    assert images.shape == (len(train), 8, 8, 1) and images.min() == 0.0 and images.max() == 1.0
    shape = (1, -1, 1, 1)
    raw = train.x * torch.tensor(train.meta["std"]).view(shape) + torch.tensor(train.meta["mean"]).view(shape)
    np.testing.assert_allclose(images[..., 0], (raw[:, 0] / raw.max()).numpy(), atol=1e-5)  # digits: 0..16
    with pytest.raises(ValueError, match=r"galleries show images .* shape \(96, 8\)"):
        pixels(dataclasses.replace(blobs, meta={}))


def test_curves_give_every_series_its_own_style():
    """Full data and random subsets keep their fixed colours; a second series of one kind (full data at another
    noise level) gets another dash pattern, so no two lines of a panel look alike."""
    from collections import Counter

    from datadiet.experiments.figures.curves import _style

    colours, used = iter(["C0", "C1"]), Counter()
    methods = [{"kind": "full"}, {"kind": "full"}, {"kind": "random"}, {"kind": "dynamic", "policy": "random"},
               {"kind": "random"}, {"kind": "static"}, {"kind": "dynamic", "policy": "ucb"}]
    styles = [_style(m, colours, used) for m in methods]
    looks = [(s["color"], str(s["linestyle"])) for s in styles]
    assert len(set(looks)) == len(looks)
    assert [s["color"] for s in styles] == ["black", "black", "grey", "grey", "grey", "C0", "C1"]
    assert [s["linestyle"] for s in styles[:4]] == ["-", "-.", "--", ":"]
