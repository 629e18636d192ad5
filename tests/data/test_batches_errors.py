"""Data the scores cannot use is refused with a one-line ``ValueError`` that names what was expected.

Each case goes through every scoring entry point (EL2N, GraNd, the loss, the dynamic scoring pass), since each
reads data through the same boundary and must not let a confusing error from deeper down escape instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from datadiet.data import DictBatches, WithPositions
from datadiet.dynamic import scoring_pass
from datadiet.scores import el2n, grand, loss_scores
from integrations_data import PngFolder, blob_dataset, make_mlp, write_png_tree

SCORES: dict[str, Callable[..., Any]] = {
    "el2n": el2n, "grand": grand, "loss_scores": loss_scores, "scoring_pass": scoring_pass,
}


class Words(Dataset):
    """Items are strings: nothing to unpack into (x, y)."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, i: int) -> str:
        return f"word {i}"


class Quads(Dataset):
    """Items are 4-tuples ``(x, y, weight, source)``: one too many to unpack."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, float, int]:
        return torch.zeros(6), i % 3, 1.0, 7


class Triples(Dataset):
    """Items are ``(x, y, index)``, a common home-made layout, where datadiet reads 3-tuples as ``(position, x, y)``."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        return torch.zeros(6), i % 3, i


class Pairs(Dataset):
    """Items are ``(x, y)`` pairs of a map-style dataset (not tensors held whole)."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.zeros(6), i % 3


class Records(Dataset):
    """Dict items ``{"features": (6,), <label_key>: int}``."""

    def __init__(self, label_key: str = "target") -> None:
        self.label_key = label_key
        self.x = blob_dataset(n=12).tensors[0]

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"features": self.x[i], self.label_key: i % 3}


def one_line_error(call: Callable[[], Any], *needles: str) -> str:
    """Run ``call``, expecting a ``ValueError`` with a one-line message that contains every needle."""
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.strip() and "\n" not in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"
    return message


@pytest.fixture(params=list(SCORES))
def score(request) -> Callable[[nn.Module, Any], Any]:
    return SCORES[request.param]


@pytest.mark.parametrize("wrap", [lambda ds: ds, lambda ds: DataLoader(ds, batch_size=5)], ids=["dataset", "loader"])
def test_items_that_are_strings(score, wrap):
    one_line_error(lambda: score(make_mlp(), wrap(Words())), "str", "expected", "(x, y)")


@pytest.mark.parametrize("wrap", [lambda ds: ds, lambda ds: DataLoader(ds, batch_size=5)], ids=["dataset", "loader"])
def test_items_that_are_4_tuples(score, wrap):
    one_line_error(lambda: score(make_mlp(), wrap(Quads())), "4-tuple", "expected", "(x, y)")


def test_items_that_are_x_y_index_triples(score):
    one_line_error(lambda: score(make_mlp(), Triples()), "(position, x, y)", "expected")


@pytest.mark.parametrize("workers", [0, 2])
def test_items_that_are_pil_images_name_the_transform(tmp_path, workers):
    folder = PngFolder(write_png_tree(tmp_path, per_class=2), transform=lambda image: image)
    one_line_error(lambda: el2n(make_mlp(), DataLoader(folder, batch_size=4, num_workers=workers)), "Image",
                   "transform")


def test_dict_items_without_a_label_key(score):
    one_line_error(lambda: score(make_mlp(), Records()), "'label'", "features", "target", "DictBatches")


def test_adapter_names_a_missing_label_key(score):
    data = DictBatches(DataLoader(Records(), batch_size=4), inputs=["features"], label="label")
    one_line_error(lambda: score(make_mlp(), data), "'label'", "target", "DictBatches(data, label=")


def test_hugging_face_dataset_without_its_label_column():
    pytest.importorskip("datasets")
    from integrations_data import token_dataset

    tokens = token_dataset().remove_columns("label")
    one_line_error(lambda: el2n(make_mlp(), DictBatches(tokens)), "'label'", "input_ids", "DictBatches")


def test_adapter_with_tuple_items():
    one_line_error(lambda: el2n(make_mlp(), DictBatches(Pairs())), "DictBatches", "dict")


def test_model_rejects_the_input_width(score):
    """A 6-wide MLP on 5-wide inputs: torch's shape error, as one line naming what the model was given."""
    x, y = blob_dataset(n=12, dim=5).tensors
    for data in ((x, y), DataLoader(TensorDataset(x, y), batch_size=4)):
        one_line_error(lambda data=data: score(make_mlp(dim=6), data), "rejected", "expected")


def test_model_rejects_dict_inputs(score):
    """An MLP cannot take ``model(**{"features": ...})``."""
    data = DictBatches(Records(label_key="label"))
    one_line_error(lambda: score(make_mlp(), data), "rejected", "features", "expected")


def test_model_output_that_is_not_logits(score):
    model = nn.Sequential(make_mlp(), nn.Unflatten(1, (3, 1)))
    one_line_error(lambda: score(model, blob_dataset(n=12)), "expected", "(B, K)")


def test_shuffling_loader_without_positions(score):
    loader = DataLoader(blob_dataset(n=12), batch_size=4, shuffle=True)
    one_line_error(lambda: score(make_mlp(), loader), "WithPositions")


@pytest.mark.parametrize("workers", [0, 2])
def test_with_positions_over_strings(workers):
    loader = DataLoader(WithPositions(Words()), batch_size=4, shuffle=True, num_workers=workers)
    one_line_error(lambda: el2n(make_mlp(), loader), "str", "expected")
