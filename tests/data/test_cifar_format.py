"""CIFAR-10/100 python-version loading: layouts, archives, the restricted unpickler, errors."""

from __future__ import annotations

import io
import os
import tarfile

import numpy as np
import pytest
import torch

from datadiet.data import load_splits
from datadiet.data.archive import safe_extract
from datadiet.data.cifar import read_batch
from datadiet.data.download import SOURCES, Source
from datadiet.data.registry import load_raw

from .data_formats import CIFAR_LAYOUT, make_cifar_dir, make_tar, py2_pickle, tiny_source


def _members(name: str) -> list[str]:
    _, meta, _, _, train, test, _ = CIFAR_LAYOUT[name]
    return [*train, test]


@pytest.fixture
def cifar(tmp_path, use_source):
    """A tiny CIFAR-10 folder under tmp_path/root, registered with its md5 sums."""
    written = make_cifar_dir(tmp_path / "root", "cifar10")
    folder = tmp_path / "root" / "cifar-10-batches-py"
    use_source("cifar10", tiny_source(folder, [], members=tiny_source(folder, _members("cifar10")).files))
    return folder, written


def _check(raw, written, k):
    for split in ("train", "test"):
        ds = getattr(raw, split)
        assert ds.x.dtype == torch.uint8 and ds.x.shape == (len(written[f"x_{split}"]), 3, 32, 32)
        np.testing.assert_array_equal(ds.x.reshape(len(ds), -1).numpy(), written[f"x_{split}"])
        np.testing.assert_array_equal(ds.y.numpy(), written[f"y_{split}"])
        assert ds.num_classes == k and ds.classes[:2] == ("class0", "class1") and ds.augment == "crop-flip"


def test_rows_are_red_green_blue_planes(cifar):
    folder, written = cifar
    x, _ = read_batch(folder / "test_batch", b"labels")
    np.testing.assert_array_equal(x[2, 1, 3, 4], written["x_test"][2, 1024 + 3 * 32 + 4])


@pytest.mark.parametrize("where", ["folder", "parent"])
def test_cifar10_from_folder_or_parent(cifar, where):
    folder, written = cifar
    _check(load_raw("cifar10", folder if where == "folder" else folder.parent), written, 10)


def test_cifar10_from_archive_is_extracted_and_checked(cifar, tmp_path, use_source):
    folder, written = cifar
    archive = make_tar(tmp_path / "cifar-10-python.tar.gz", folder.parent, ["cifar-10-batches-py"])
    target = tmp_path / "fresh"
    target.mkdir()
    archive = archive.rename(target / archive.name)
    use_source("cifar10", tiny_source(target, [archive.name], members=SOURCES["cifar10"].members))
    _check(load_raw("cifar10", archive), written, 10)
    assert (target / "cifar-10-batches-py" / "test_batch").is_file()
    _check(load_raw("cifar10", target), written, 10)


def test_cifar100_fine_labels(tmp_path, use_source):
    written = make_cifar_dir(tmp_path, "cifar100")
    folder = tmp_path / "cifar-100-python"
    use_source("cifar100", tiny_source(folder, [], members=tiny_source(folder, _members("cifar100")).files))
    _check(load_raw("cifar100", tmp_path), written, 100)
    splits = load_splits("cifar100", folder)
    assert len(splits.train.meta["mean"]) == 3
    assert torch.allclose(splits.train.x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)


class _RemovesFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.remove, (self.path,)


def test_unpickler_refuses_other_globals(cifar, tmp_path):
    folder, _ = cifar
    sentinel = tmp_path / "sentinel"
    sentinel.touch()
    (folder / "test_batch").write_bytes(py2_pickle({"data": _RemovesFile(sentinel)}))
    with pytest.raises(ValueError, match=r"test_batch is not an official CIFAR pickle.*(posix|os)\.remove"):
        read_batch(folder / "test_batch", b"labels")
    assert sentinel.exists()


def test_wrong_data_shape_is_reported(cifar):
    folder, _ = cifar
    (folder / "test_batch").write_bytes(py2_pickle({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"test_batch: expected b'data' as a uint8 array \(n, 3072\)"):
        read_batch(folder / "test_batch", b"labels")


def test_member_checksums_are_verified(cifar, use_source):
    folder, _ = cifar
    use_source("cifar10", Source("http://127.0.0.1:9/", {}, {"test_batch": "0" * 32}))
    with pytest.raises(ValueError, match="test_batch is corrupt.*expected 0{32}"):
        load_raw("cifar10", folder)


def test_missing_member_is_listed(cifar):
    folder, _ = cifar
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=f"missing data_batch_3 in {folder}"):
        load_raw("cifar10", folder)


def test_nothing_found_suggests_download(tmp_path):
    expected = r"neither cifar-10-batches-py/.*nor cifar-10-python.tar.gz.*--download"
    with pytest.raises(FileNotFoundError, match=expected):
        load_splits("cifar10", tmp_path)


@pytest.mark.parametrize("bad", ["../evil.txt", "/tmp/evil.txt", "link"])
def test_unsafe_archive_members_are_rejected(tmp_path, bad):
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(bad)
        if bad == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(ValueError, match="refusing to extract"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not any((tmp_path / "out").iterdir())
