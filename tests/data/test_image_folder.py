"""Class-per-folder PNG trees: the generic "folder" dataset and CINIC-10."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from datadiet.data import folder, load_splits
from datadiet.data.registry import load_raw

from .data_formats import make_image_tree, make_tar, tiny_source

PARTS = {"train": {"cat": 3, "ant": 2, "bee": 4}, "test": {"ant": 2, "bee": 1}}


def test_tree_round_trip_in_sorted_order(tmp_path):
    written = make_image_tree(tmp_path, PARTS)
    raw = load_raw("folder", tmp_path)
    assert raw.train.classes == ("ant", "bee", "cat") and raw.train.name == tmp_path.name
    for part in ("train", "test"):
        ds = getattr(raw, part)
        expected = sorted(written[part], key=lambda item: (item[0], item[1]))
        assert ds.x.shape == (len(expected), 3, 4, 5) and ds.x.dtype == torch.uint8
        for i, (cls, _, pixels) in enumerate(expected):
            np.testing.assert_array_equal(ds.x[i].permute(1, 2, 0).numpy(), pixels)
            assert ds.classes[ds.y[i]] == cls


def test_grayscale_tree_has_one_channel(tmp_path):
    written = make_image_tree(tmp_path, PARTS, mode="L")
    splits = load_splits("folder", tmp_path)
    assert splits.train.x.shape == (9, 1, 4, 5) and splits.train.augment == "none"
    pixels = np.stack([p for _, _, p in sorted(written["train"], key=lambda t: t[:2])]) / 255.0
    assert splits.train.meta["mean"] == pytest.approx([pixels.mean()])


def test_mixed_modes_become_rgb(tmp_path):
    make_image_tree(tmp_path, PARTS)
    gray = np.full((4, 5), 7, np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / "train" / "ant" / "img00.png")
    raw = load_raw("folder", tmp_path)
    assert raw.train.x.shape[1] == 3 and (raw.train.x[0] == 7).all()


def test_odd_size_names_the_file(tmp_path):
    make_image_tree(tmp_path, PARTS)
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(tmp_path / "train" / "bee" / "img01.png")
    with pytest.raises(ValueError, match=r"bee/img01.png is 6x6, but .*ant/img00.png is 5x4"):
        load_raw("folder", tmp_path)


def test_unknown_test_class_is_an_error(tmp_path):
    make_image_tree(tmp_path, {**PARTS, "test": {"dog": 1}})
    with pytest.raises(ValueError, match=r"class folders \['dog'\] are not training classes"):
        load_raw("folder", tmp_path)


def test_missing_test_part_is_an_error(tmp_path):
    make_image_tree(tmp_path, {"train": PARTS["train"]})
    with pytest.raises(FileNotFoundError, match="no folder .*test: expected one subfolder per class"):
        load_raw("folder", tmp_path)


@pytest.fixture
def cinic(tmp_path, monkeypatch):
    parts = {"train": {"airplane": 2, "bird": 1}, "valid": {"airplane": 1, "bird": 2}, "test": {"bird": 2}}
    written = make_image_tree(tmp_path / "cinic", parts, size=(3, 3))
    monkeypatch.setattr(folder, "CINIC10_SIZES", {"train": 3, "valid": 3, "test": 2})
    return tmp_path / "cinic", written


def test_cinic10_merges_valid_into_train(cinic):
    root, written = cinic
    splits = load_splits("cinic10", root)
    assert len(splits.train) == 6 and len(splits.test) == 2 and splits.train.augment == "crop-flip"
    assert splits.train.meta["parts"] == {"train": [0, 3], "valid": [3, 6]}
    raw = load_raw("cinic10", root)
    valid_first = sorted(written["valid"], key=lambda t: t[:2])[0][2]
    np.testing.assert_array_equal(raw.train.x[3].permute(1, 2, 0).numpy(), valid_first)


def test_cinic10_from_archive(cinic, tmp_path, use_source):
    root, _ = cinic
    archive = make_tar(tmp_path / "CINIC-10.tar.gz", root, ["train", "valid", "test"])
    target = tmp_path / "extracted"
    target.mkdir()
    archive = archive.rename(target / archive.name)
    use_source("cinic10", tiny_source(target, [archive.name]))
    assert len(load_raw("cinic10", target).train) == 6


def test_incomplete_cinic10_is_reported(cinic, monkeypatch):
    root, _ = cinic
    monkeypatch.setattr(folder, "CINIC10_SIZES", {"train": 3, "valid": 4, "test": 2})
    with pytest.raises(ValueError, match="valid holds 3 images, expected 4: incomplete"):
        load_raw("cinic10", root)
