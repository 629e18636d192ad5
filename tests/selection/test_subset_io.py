"""Subset files: round trip, provenance, bare index files, and the errors a wrong file must raise."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from synthetic import make_blobs

import datadiet
from datadiet.selection import Subset, keep_highest, load_subset, save_subset, subset_from_positions


@pytest.fixture
def part():
    """A dataset whose original indices are not its positions (every third example of 90 blobs)."""
    return make_blobs(90).subset(np.arange(0, 90, 3), name="blobs-part")


def make_subset(dataset, keep: float = 0.4) -> Subset:
    scores = np.random.default_rng(0).random(len(dataset))
    positions = keep_highest(scores, keep)
    return subset_from_positions(
        positions, dataset, rule="keep_highest", params={"keep": keep, "class_balanced": False},
        scores={"method": "el2n", "time": "epoch 1", "label_fingerprint": dataset.label_fingerprint()},
    )


def test_round_trip_keeps_indices_and_provenance(part, tmp_path: Path) -> None:
    subset = make_subset(part)
    save_subset(subset, tmp_path / "out" / "subset.npy")
    plain = np.load(tmp_path / "out" / "subset.npy")
    assert plain.dtype == np.int64 and np.array_equal(plain, subset.indices)
    assert np.all(plain % 3 == 0), "original indices, not positions"
    loaded = load_subset(tmp_path / "out" / "subset.npy", part)
    assert np.array_equal(loaded.indices, subset.indices)
    assert loaded.provenance == json.loads(json.dumps(subset.provenance))
    p = loaded.provenance
    assert (p["rule"], p["dataset"], p["num_examples"], p["num_selected"]) == ("keep_highest", "blobs-part", 30, 12)
    assert p["version"] == datadiet.__version__ and p["scores"]["method"] == "el2n"
    assert p["label_fingerprint"] == part.label_fingerprint() and p["seed"] is None
    positions = loaded.positions(part)
    assert np.array_equal(part.index[positions].numpy(), subset.indices)
    assert not list((tmp_path / "out").glob("*.tmp")), "no temporary files left"


def test_bare_npy_and_txt_files_load_and_map_to_positions(part, tmp_path: Path) -> None:
    np.save(tmp_path / "mine.npy", np.array([9, 0, 3], dtype=np.int32))
    (tmp_path / "mine.txt").write_text("9\n0\n3\n")
    for name in ("mine.npy", "mine.txt"):
        subset = load_subset(tmp_path / name, part)
        assert subset.indices.tolist() == [0, 3, 9] and subset.provenance == {}
        assert subset.positions(part).tolist() == [0, 1, 3]


def test_duplicates_are_counted(tmp_path: Path) -> None:
    np.save(tmp_path / "dup.npy", np.array([4, 1, 4, 7, 1, 4]))
    with pytest.raises(ValueError, match="2 indices appear more than once \\(3 surplus entries\\), e.g. \\[1, 4\\]"):
        load_subset(tmp_path / "dup.npy")


def test_indices_outside_the_dataset_are_named(part, tmp_path: Path) -> None:
    np.save(tmp_path / "far.npy", np.array([0, 1, 3, 500]))
    with pytest.raises(ValueError, match="2 of 4 subset indices are not examples of 'blobs-part'.*\\[1, 500\\]"):
        load_subset(tmp_path / "far.npy", part)
    np.save(tmp_path / "neg.npy", np.array([-2, 3]))
    with pytest.raises(ValueError, match="non-negative"):
        load_subset(tmp_path / "neg.npy")


def test_label_fingerprint_mismatch(part, tmp_path: Path) -> None:
    save_subset(make_subset(part), tmp_path / "s.npy")
    relabeled = make_blobs(90).subset(np.arange(0, 90, 3), name="blobs-part")
    relabeled.y[0] = (relabeled.y[0] + 1) % 3
    with pytest.raises(ValueError, match="label fingerprint.*examples or labels differ"):
        load_subset(tmp_path / "s.npy", relabeled)
    assert len(load_subset(tmp_path / "s.npy")) == 12, "loads without a dataset to check against"


def test_pickle_requiring_and_malformed_files_are_rejected(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="without pickle"):
        load_subset(tmp_path / "obj.npy")
    np.save(tmp_path / "float.npy", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="integer array"):
        load_subset(tmp_path / "float.npy")
    np.save(tmp_path / "mask.npy", np.array([True, False]))
    with pytest.raises(ValueError, match="np.flatnonzero"):
        load_subset(tmp_path / "mask.npy")
    (tmp_path / "pickled.npy").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="cannot read.*not a NumPy .npy file"):
        load_subset(tmp_path / "pickled.npy")
    torch.save(torch.arange(3), tmp_path / "torch.npy")
    with pytest.raises(ValueError, match="cannot read.*zip archive"):
        load_subset(tmp_path / "torch.npy")
    (tmp_path / "bad.txt").write_text("1\n2.5\n")
    with pytest.raises(ValueError, match="cannot read"):
        load_subset(tmp_path / "bad.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_subset(tmp_path / "missing.npy")


def test_stale_or_foreign_sidecar_is_rejected(part, tmp_path: Path) -> None:
    save_subset(make_subset(part), tmp_path / "s.npy")
    np.save(tmp_path / "s.npy", np.array([0, 3]))
    with pytest.raises(ValueError, match="stale sidecar"):
        load_subset(tmp_path / "s.npy")
    (tmp_path / "s.npy.json").write_text('{"rule": "x"}')
    with pytest.raises(ValueError, match="not a datadiet subset description"):
        load_subset(tmp_path / "s.npy")


def test_saving_without_provenance_removes_old_sidecar(part, tmp_path: Path) -> None:
    save_subset(make_subset(part), tmp_path / "s.npy")
    save_subset(Subset(np.array([3, 6])), tmp_path / "s.npy")
    assert not (tmp_path / "s.npy.json").exists()
    assert load_subset(tmp_path / "s.npy", part).positions(part).tolist() == [1, 2]


def test_save_requires_npy_suffix_and_json_provenance(part, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ending in .npy"):
        save_subset(make_subset(part), tmp_path / "subset.txt")
    with pytest.raises(ValueError, match="JSON-compatible"):
        save_subset(Subset(np.array([1]), {"bad": object()}), tmp_path / "s.npy")
    save_subset(Subset(np.array([1]), {"rule": "by hand"}), tmp_path / "hand.npy")
    assert load_subset(tmp_path / "hand.npy").provenance == {"rule": "by hand", "format": "datadiet-subset"}


def test_positions_out_of_range_are_rejected(part) -> None:
    with pytest.raises(ValueError, match="positions in 0..29"):
        subset_from_positions([0, 30], part, rule="keep_highest", params={})
