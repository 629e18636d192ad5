"""Verified downloads, from a local HTTP server only."""

from __future__ import annotations

import hashlib

import pytest

from datadiet.data import load_splits
from datadiet.data.download import IDX_FILES, download_file
from datadiet.data.registry import load_raw

from .data_formats import make_cifar_dir, make_idx_dir, make_tar, tiny_source


def test_download_verifies_and_renames(http_root, tmp_path):
    served, url = http_root
    (served / "blob.bin").write_bytes(b"x" * 3_000_000)
    dest = download_file(url + "blob.bin", tmp_path / "out" / "blob.bin", hashlib.md5(b"x" * 3_000_000).hexdigest(),
                         progress=False)
    assert dest.read_bytes() == b"x" * 3_000_000
    assert [p.name for p in dest.parent.iterdir()] == ["blob.bin"]


def test_checksum_mismatch_deletes_the_partial_file(http_root, tmp_path):
    served, url = http_root
    (served / "blob.bin").write_bytes(b"abc")
    actual = hashlib.md5(b"abc").hexdigest()
    with pytest.raises(ValueError, match=f"blob.bin downloaded from .* has md5 {actual}, expected {'0' * 32}"):
        download_file(url + "blob.bin", tmp_path / "blob.bin", "0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]


def test_http_error_is_a_connection_error(http_root, tmp_path):
    _, url = http_root
    with pytest.raises(ConnectionError, match="could not download .*missing.bin"):
        download_file(url + "missing.bin", tmp_path / "missing.bin", "0" * 32, progress=False)
    assert not (tmp_path / "missing.bin").exists()


def test_idx_dataset_downloads_then_loads_offline(http_root, tmp_path, use_source):
    served, url = http_root
    arrays = make_idx_dir(served)
    use_source("fashion-mnist", tiny_source(served, [f for pair in IDX_FILES.values() for f in pair], url))
    target = tmp_path / "fmnist"
    splits = load_splits("fashion-mnist", target, download=True)
    assert len(splits.train) == len(arrays["y_train"]) and len(splits.test) == len(arrays["y_test"])
    for f in served.iterdir():
        f.unlink()
    assert load_splits("fashion-mnist", target).train.label_fingerprint() == splits.train.label_fingerprint()


def test_cifar_archive_downloads_and_extracts(http_root, tmp_path, use_source):
    served, url = http_root
    make_cifar_dir(tmp_path / "src", "cifar10")
    make_tar(served / "cifar-10-python.tar.gz", tmp_path / "src", ["cifar-10-batches-py"])
    use_source("cifar10", tiny_source(served, ["cifar-10-python.tar.gz"], url))
    raw = load_raw("cifar10", tmp_path / "data", download=True)
    assert len(raw.train) == 30 and (tmp_path / "data" / "cifar-10-batches-py" / "data_batch_5").is_file()
