"""Named datasets, bundled and generated data, user arrays, and normalization."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from datadiet.data import DATASETS, from_torch_dataset, list_datasets, load_arrays, load_splits
from datadiet.data import generated
from datadiet.data.normalize import channel_stats

NAMES = ["cifar10", "cifar100", "cinic10", "digits", "fashion-mnist", "folder", "kmnist", "mnist", "mnist1d", "npz"]


def test_registry_names():
    assert list_datasets() == NAMES and set(DATASETS) == set(NAMES)
    assert {n for n in NAMES if DATASETS[n].augment == "crop-flip"} == {"cifar10", "cifar100", "cinic10"}


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown dataset 'cifar-10'; valid: " + ", ".join(NAMES)):
        load_splits("cifar-10")


def test_digits_split_and_statistics():
    splits = load_splits("digits")
    images, target = load_digits(return_X_y=True)
    assert splits.train.x.shape == (1437, 1, 8, 8) and splits.test.x.shape == (360, 1, 8, 8)
    np.testing.assert_array_equal(splits.test.y.numpy(), target[1437:])
    mean, std = images[:1437].mean(), images[:1437].std()
    assert splits.train.meta["mean"] == pytest.approx([mean]) and splits.train.meta["std"] == pytest.approx([std])
    np.testing.assert_allclose(splits.test.x.numpy().reshape(360, 64), (images[1437:] - mean) / std, atol=1e-5)


def test_mnist1d_is_generated_once_then_read_from_the_cache(tmp_path, monkeypatch):
    calls = []

    def fake_generate():
        calls.append(1)
        rng = np.random.default_rng(0)
        return {"x_train": rng.normal(size=(40, 40)), "y_train": np.arange(40) % 10,
                "x_test": rng.normal(size=(10, 40)), "y_test": np.arange(10)}

    monkeypatch.setattr(generated, "_generate_mnist1d", fake_generate)
    first = load_splits("mnist1d", tmp_path / "cache")
    cached = load_splits("mnist1d", tmp_path / "cache")
    assert len(calls) == 1 and (tmp_path / "cache" / "mnist1d.npz").is_file()
    assert first.train.x.shape == (40, 1, 40) and first.train.x.dtype == torch.float32
    assert torch.equal(cached.train.x, first.train.x) and torch.equal(cached.test.y, first.test.y)
    assert cached.train.meta["source"] == str(tmp_path / "cache" / "mnist1d.npz")


@pytest.mark.slow
def test_real_mnist1d_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()
    splits = load_splits("mnist1d")
    assert np.array_equal(np.random.get_state()[1], state)
    assert splits.train.x.shape == (4000, 1, 40) and splits.test.x.shape == (1000, 1, 40)
    np.testing.assert_array_equal(np.bincount(splits.train.y.numpy(), minlength=10) > 300, True)


def test_npz_file(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.normal(size=(12, 5)), "y_train": np.arange(12) % 3,
              "x_test": rng.normal(size=(4, 5)), "y_test": np.arange(4) % 3, "classes": np.array(["a", "b", "c"])}
    np.savez(tmp_path / "mine.npz", **arrays)
    splits = load_splits("npz", tmp_path / "mine.npz")
    assert splits.train.name == "mine" and splits.train.classes == ("a", "b", "c")
    assert splits.train.x.shape == (12, 1, 5)
    same = load_arrays(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"])
    assert torch.equal(splits.test.x, same.test.x)
    np.savez(tmp_path / "bad.npz", x_train=arrays["x_train"])
    with pytest.raises(ValueError, match=r"bad.npz lacks \['y_train', 'x_test', 'y_test'\]"):
        load_splits("npz", tmp_path / "bad.npz")


def test_rgb_arrays_are_normalized_per_channel():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 3, 4, 4), dtype=np.uint8)
    x[:, 1] //= 4
    splits = load_arrays(x, np.arange(50) % 5, x[:10], np.arange(10) % 5)
    std, mean = torch.std_mean(splits.train.x.double(), dim=(0, 2, 3), correction=0)
    np.testing.assert_allclose(mean.numpy(), 0, atol=1e-6)
    np.testing.assert_allclose(std.numpy(), 1, atol=1e-6)
    assert splits.train.meta["mean"] == pytest.approx((x / 255.0).mean(axis=(0, 2, 3)).tolist())
    assert splits.train.num_classes == 5


def test_uint8_and_float_statistics_agree():
    x = torch.randint(0, 256, (300, 3, 5, 5), dtype=torch.uint8)
    exact = channel_stats(x)
    chunked = channel_stats(x.double())
    for a, b in zip(exact, chunked):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_constant_channel_keeps_unit_std():
    x = np.zeros((4, 2, 3, 3), np.float32)
    x[:, 0] = np.arange(4)[:, None, None]
    splits = load_arrays(x, [0, 1, 0, 1], x, [0, 1, 0, 1])
    assert splits.train.meta["std"][1] == 1.0 and torch.isfinite(splits.train.x).all()


def test_array_shapes_and_labels_are_checked():
    with pytest.raises(ValueError, match=r"x_train examples have shape \(1, 4, 4\) but x_test examples \(1, 5, 5\)"):
        load_arrays(np.zeros((2, 4, 4)), [0, 1], np.zeros((2, 5, 5)), [0, 1])
    with pytest.raises(ValueError, match=r"labels must lie in 0..1, found -1..1"):
        load_arrays(np.zeros((2, 4)), [-1, 1], np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match="1-D integer array"):
        load_arrays(np.zeros((2, 4)), [0.0, 1.0], np.zeros((2, 4)), [0, 1])


def test_from_torch_dataset():
    x, y = torch.randn(7, 3, 2, 2), torch.tensor([0, 2, 1, 2, 0, 1, 2])
    base = torch.utils.data.TensorDataset(x, y)
    ds = from_torch_dataset(base, name="tensors")
    assert torch.equal(ds.x, x) and torch.equal(ds.y, y) and torch.equal(ds.index, torch.arange(7))
    assert ds.num_classes == 3 and ds.name == "tensors" and ds[3][0] == 3
    assert from_torch_dataset(base, num_classes=10).num_classes == 10
