"""Training-set variants (label noise, imbalance, per-class, validation split), DataOptions and prepare()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from datadiet.data import (
    PAPER_IMBALANCE, DataOptions, add_label_noise, imbalance, load_arrays, per_class, prepare, split_validation,
)


@pytest.fixture(scope="module")
def ds():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    rng.shuffle(y)
    x = rng.normal(size=(len(y), 2, 3, 3)).astype(np.float32) + y[:, None, None, None]
    return load_arrays(x, y, x[:5], y[:5], name="toy").train


def _counts(d):
    return np.bincount(d.y.numpy(), minlength=d.num_classes)


def _rows_kept(sub, full):
    """The subset's inputs are the full set's rows at the subset's original indices."""
    assert bool((sub.index[1:] > sub.index[:-1]).all())
    assert torch.equal(sub.x, full.x[sub.index])


def test_label_noise_permutes_chosen_labels(ds):
    noisy = add_label_noise(ds, 0.3, seed=1)
    mask = noisy.noise_mask.numpy()
    assert mask.sum() == round(0.3 * len(ds)) and noisy.name == "toy+noise0.3"
    np.testing.assert_array_equal(_counts(noisy), _counts(ds))
    np.testing.assert_array_equal(noisy.clean_y.numpy(), ds.y.numpy())
    np.testing.assert_array_equal(noisy.y.numpy()[~mask], ds.y.numpy()[~mask])
    np.testing.assert_array_equal(np.sort(noisy.y.numpy()[mask]), np.sort(ds.y.numpy()[mask]))
    assert (noisy.y.numpy()[mask] != ds.y.numpy()[mask]).mean() > 0.4
    assert torch.equal(noisy.index, ds.index) and noisy.x is ds.x


def test_label_noise_is_deterministic_in_the_seed(ds):
    a, b, c = (add_label_noise(ds, 0.2, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.y, b.y) and torch.equal(a.noise_mask, b.noise_mask)
    assert not torch.equal(a.noise_mask, c.noise_mask)


def test_label_noise_rejects_bad_fractions_and_double_noise(ds):
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        add_label_noise(ds, 1.0, seed=0)
    with pytest.raises(ValueError, match="already has label noise"):
        add_label_noise(add_label_noise(ds, 0.1, 0), 0.1, 0)


def test_imbalance_keeps_the_rates(ds):
    sub = imbalance(ds, (0.25, 0.5, 1.0, 0.75), seed=0)
    np.testing.assert_array_equal(_counts(sub), np.rint(np.array([0.25, 0.5, 1.0, 0.75]) * _counts(ds)))
    _rows_kept(sub, ds)
    assert sub.name == "toy+imbalanced" and sub.meta["variants"][-1]["imbalance"] == [0.25, 0.5, 1.0, 0.75]
    with pytest.raises(ValueError, match="4 rates in"):
        imbalance(ds, PAPER_IMBALANCE, seed=0)


def test_per_class_keeps_n_of_each(ds):
    sub = per_class(ds, 10, seed=3)
    np.testing.assert_array_equal(_counts(sub), [10] * 4)
    _rows_kept(sub, ds)
    assert sub.name == "toy+10-per-class"
    assert not torch.equal(sub.index, per_class(ds, 10, seed=4).index)
    with pytest.raises(ValueError, match=r"classes have fewer: \{3: 10\}"):
        per_class(ds, 11, seed=0)


def test_validation_split_is_stratified_and_disjoint(ds):
    train, val = split_validation(ds, 0.2, seed=0)
    assert set(train.index.tolist()).isdisjoint(val.index.tolist())
    assert sorted(train.index.tolist() + val.index.tolist()) == ds.index.tolist()
    np.testing.assert_array_equal(_counts(val), [8, 6, 4, 2])
    _rows_kept(train, ds)
    _rows_kept(val, ds)
    assert (train.name, val.name) == ("toy+val0.2", "toy+val0.2:val")


@pytest.mark.parametrize("kwargs, message", [
    ({"label_noise": 1.0}, "label_noise"), ({"label_noise": -0.1}, "label_noise"),
    ({"imbalance": (0.5, 0.0)}, "imbalance"), ({"imbalance": ()}, "imbalance"), ({"imbalance": "yes"}, "imbalance"),
    ({"per_class": 0}, "per_class"), ({"per_class": 2.5}, "per_class"), ({"per_class": True}, "per_class"),
    ({"val_fraction": 1.0}, "val_fraction"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_options_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataOptions(**kwargs)


def test_options_accept_rate_lists():
    assert DataOptions(imbalance=[0.5, 1]).imbalance == (0.5, 1)
    with pytest.raises(ValueError, match="2 keep rates, but the dataset has 10 classes"):
        prepare("digits", options=DataOptions(imbalance=(0.5, 1)))


def test_prepare_applies_variants_in_order(tmp_path):
    options = DataOptions(label_noise=0.1, imbalance=True, per_class=30, val_fraction=0.25, seed=7)
    splits = prepare("digits", options=options)
    assert splits.train.name == "digits+imbalanced+30-per-class+val0.25+noise0.1"
    assert splits.val.name == "digits+imbalanced+30-per-class+val0.25:val"
    assert splits.val.noise_mask is None and splits.test.name == "digits" and len(splits.test) == 360
    assert [list(v)[0] for v in splits.train.meta["variants"]] == ["imbalance", "per_class", "val_fraction", "noise"]
    np.testing.assert_array_equal(_counts(splits.train) + _counts(splits.val), [30] * 10)
    assert splits.train.noise_mask.sum() == round(0.1 * len(splits.train))
    assert splits.train.x.mean().abs() < 1e-5 and splits.train.x.std().item() == pytest.approx(1, abs=1e-2)
    again = prepare("digits", options=options)
    assert torch.equal(again.train.y, splits.train.y) and torch.equal(again.val.index, splits.val.index)


def test_prepare_default_imbalance_table():
    splits = prepare("digits", options=DataOptions(imbalance=True))
    full = prepare("digits")
    np.testing.assert_array_equal(_counts(splits.train), np.rint(np.array(PAPER_IMBALANCE) * _counts(full.train)))
