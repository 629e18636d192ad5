"""IDX (.gz) loading: round trip, corrupt and missing files, and the real Fashion-MNIST."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from datadiet.data import load_splits
from datadiet.data.download import IDX_FILES, SOURCES, md5sum
from datadiet.data.idx import read_idx
from datadiet.data.registry import load_raw

from .data_formats import make_idx_dir, tiny_source, write_idx

SHARED = Path(__file__).resolve().parents[1].parent.parent / "shared" / "data"
ALL_FILES = [f for pair in IDX_FILES.values() for f in pair]


@pytest.fixture
def mnist_dir(tmp_path, use_source):
    arrays = make_idx_dir(tmp_path / "mnist")
    use_source("mnist", tiny_source(tmp_path / "mnist", ALL_FILES))
    return tmp_path / "mnist", arrays


def test_round_trip_is_exact(mnist_dir):
    directory, arrays = mnist_dir
    raw = load_raw("mnist", directory)
    for split in ("train", "test"):
        ds = getattr(raw, split)
        assert ds.x.dtype == torch.uint8 and ds.x.shape == (len(arrays[f"x_{split}"]), 1, 28, 28)
        np.testing.assert_array_equal(ds.x[:, 0].numpy(), arrays[f"x_{split}"])
        np.testing.assert_array_equal(ds.y.numpy(), arrays[f"y_{split}"])
        np.testing.assert_array_equal(ds.index.numpy(), np.arange(len(ds)))


def test_load_splits_normalizes_by_train_statistics(mnist_dir):
    directory, arrays = mnist_dir
    splits = load_splits("mnist", directory)
    pixels = arrays["x_train"] / 255.0
    assert splits.train.meta["mean"] == pytest.approx([pixels.mean()])
    assert splits.train.meta["std"] == pytest.approx([pixels.std()])
    expected_test = (arrays["x_test"] / 255.0 - pixels.mean()) / pixels.std()
    np.testing.assert_allclose(splits.test.x[:, 0].numpy(), expected_test, rtol=1e-5, atol=1e-5)
    assert splits.train.x.dtype == torch.float32 and splits.train.augment == "none" and splits.val is None
    assert splits.train.classes == tuple("0123456789")


def test_bad_magic_names_the_file(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.zeros((2, 3, 3), np.uint8), magic=b"\x00\x00\x08\x01")
    with pytest.raises(ValueError, match=r"x\.gz: bad IDX magic.*3-dimensional"):
        read_idx(path, 3)


def test_truncated_data_is_reported(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x02" * 2 + bytes(10))
    with pytest.raises(ValueError, match=r"x\.gz: 26 bytes.*expected 32 bytes \(truncated\)"):
        read_idx(path, 3)


def test_truncated_gzip_stream_is_reported(mnist_dir):
    directory, _ = mnist_dir
    path = directory / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not a readable gzip file"):
        read_idx(path, 3)


def test_image_and_label_counts_must_match(mnist_dir, use_source):
    directory, _ = mnist_dir
    write_idx(directory / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    use_source("mnist", tiny_source(directory, ALL_FILES))
    with pytest.raises(ValueError, match="holds 20 images but .* holds 7 labels"):
        load_splits("mnist", directory)


def test_missing_files_are_listed_with_directory_and_url(mnist_dir):
    directory, _ = mnist_dir
    (directory / "t10k-images-idx3-ubyte.gz").unlink()
    (directory / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as err:
        load_splits("mnist", directory)
    message = str(err.value)
    assert "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz" in message and str(directory) in message
    assert "download=True" in message and "--download" in message and SOURCES["mnist"].base_url in message


def test_existing_file_with_wrong_checksum_is_reported(tmp_path):
    make_idx_dir(tmp_path)  # tiny files, checked against the official md5 sums
    expected = SOURCES["kmnist"].files["train-images-idx3-ubyte.gz"]
    with pytest.raises(ValueError, match=f"train-images-idx3-ubyte.gz is corrupt.*expected {expected}"):
        load_splits("kmnist", tmp_path)


def test_file_dataset_without_data_dir_is_an_error():
    with pytest.raises(ValueError, match="'fashion-mnist' is read from files: pass data_dir"):
        load_splits("fashion-mnist")


@pytest.mark.skipif(not (SHARED / "fashion-mnist").is_dir(), reason="no local copy of Fashion-MNIST")
def test_real_fashion_mnist():
    directory = SHARED / "fashion-mnist"
    for name, md5 in SOURCES["fashion-mnist"].files.items():
        assert md5sum(directory / name) == md5
    splits = load_splits("fashion-mnist", directory)
    assert splits.train.x.shape == (60000, 1, 28, 28) and splits.test.x.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(splits.train.y.numpy()), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(splits.test.y.numpy()), np.full(10, 1000))
    assert abs(splits.train.x.mean().item()) < 1e-4 and splits.train.x.std().item() == pytest.approx(1, abs=1e-4)
    assert splits.train.meta["mean"] == pytest.approx([0.2860], abs=1e-4)
    assert splits.train.classes[0] == "T-shirt/top" and splits.train.num_classes == 10
