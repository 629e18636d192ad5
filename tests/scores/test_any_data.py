"""EL2N, GraNd and the scoring pass on data as users bring it, against one-example-at-a-time loops.

Three cases (see ``tests/integrations_data.py``): a ``TensorDataset`` with an MLP; PNG files opened with PIL per
item, through ``DataLoader``s with 2 workers, with a CNN (Conv2d, BatchNorm2d: the hooks backend); a Hugging
Face ``datasets.Dataset`` of token ids with a randomly initialised BERT classifier (dict batches, ``.logits``
outputs). Each case is given in several forms (the dataset itself, a ``DataLoader``, a shuffling ``DataLoader``
over ``WithPositions``, ``DictBatches`` adapters) and every form must give the loop's scores in dataset order.
The loops run a float64 copy of the model, so the tolerances measure datadiet's float32 error.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from datadiet.data import DictBatches, WithPositions
from datadiet.dynamic import scoring_pass
from datadiet.scores import el2n, grand, loss_scores
from integrations_data import (
    PngFolder, TinyCNN, blob_dataset, examples_of, make_mlp, tiny_bert, token_dataset, write_png_tree,
)
from reference import loop_example_el2n, loop_example_grad_norms, loop_example_losses

EL2N_RTOL = 1e-5
GRAND_RTOL = 1e-4
BATCH = 16


@dataclass
class Case:
    """A model, its dataset, and the loops' scores in dataset order."""

    model: nn.Module
    dataset: Dataset
    el2n: np.ndarray
    grand: np.ndarray
    losses: np.ndarray


def make_case(model: nn.Module, dataset: Dataset) -> Case:
    examples = examples_of(dataset)
    exact = copy.deepcopy(model).double()
    return Case(model, dataset, np.array(loop_example_el2n(exact, examples)),
                np.array(loop_example_grad_norms(exact, examples)), np.array(loop_example_losses(exact, examples)))


@pytest.fixture(scope="module")
def tensors_case() -> Case:
    return make_case(make_mlp(), blob_dataset())


@pytest.fixture(scope="module")
def images_case(tmp_path_factory) -> Case:
    return make_case(TinyCNN(), PngFolder(write_png_tree(tmp_path_factory.mktemp("png"))))


@pytest.fixture(scope="module")
def tokens_case() -> Case:
    pytest.importorskip("datasets")
    pytest.importorskip("transformers")
    return make_case(tiny_bert(), token_dataset())


def shuffled(dataset: Dataset, **options: Any) -> DataLoader:
    """A shuffling DataLoader over ``WithPositions(dataset)``, checked to shuffle (else the test proves nothing)."""
    loader = DataLoader(WithPositions(dataset), batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(0), **options)
    first = next(iter(DataLoader(WithPositions(dataset), batch_size=BATCH, shuffle=True,
                                 generator=torch.Generator().manual_seed(0))))
    positions = first["position"] if isinstance(first, dict) else first[0]
    assert not torch.equal(positions, torch.arange(BATCH))
    return loader


def token_inputs(batch: dict) -> dict[str, torch.Tensor]:
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}


FORMS: dict[str, dict[str, Callable[[Dataset], Any]]] = {
    "tensors": {
        "dataset": lambda ds: ds,
        "pair": lambda ds: ds.tensors,
        "loader": lambda ds: DataLoader(ds, batch_size=BATCH),
        "shuffled": lambda ds: shuffled(ds),
    },
    "images": {
        "dataset": lambda ds: ds,
        "loader-2-workers": lambda ds: DataLoader(ds, batch_size=BATCH, num_workers=2),
        "shuffled-2-workers": lambda ds: shuffled(ds, num_workers=2),
    },
    "tokens": {
        "dataset": lambda ds: ds,
        "adapter-keys": lambda ds: DictBatches(ds, inputs=["input_ids", "attention_mask"]),
        "adapter-callables-loader": lambda ds: DictBatches(DataLoader(ds, batch_size=BATCH), inputs=token_inputs,
                                                           label=lambda b: b["label"]),
        "shuffled": lambda ds: DictBatches(shuffled(ds)),
    },
}
CASE_FORMS = [(case, form) for case, forms in FORMS.items() for form in forms]


@pytest.fixture(params=CASE_FORMS, ids=[f"{c}-{f}" for c, f in CASE_FORMS])
def case_and_data(request) -> tuple[str, Case, Any]:
    name, form = request.param
    case = request.getfixturevalue(f"{name}_case")
    return name, case, FORMS[name][form](case.dataset)


def check_scores(scores: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64 and scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, rtol=rtol, atol=0)


def test_el2n_matches_loop(case_and_data):
    _, case, data = case_and_data
    check_scores(el2n(case.model, data, batch_size=7), case.el2n, EL2N_RTOL)


def test_grand_matches_loop(case_and_data):
    name, case, data = case_and_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = grand(case.model, data, batch_size=7)
    fallbacks = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert bool(fallbacks) == (name == "tokens"), fallbacks  # BERT falls back (with a warning), the others do not
    check_scores(scores, case.grand, GRAND_RTOL)
    assert all(p.grad is None for p in case.model.parameters())


def test_scoring_pass_matches_loop(case_and_data):
    _, case, data = case_and_data
    losses = scoring_pass(case.model, data, batch_size=7)
    assert losses.shape == case.losses.shape and losses.dtype == torch.float32
    np.testing.assert_allclose(losses.numpy(), case.losses, rtol=1e-5, atol=1e-6)


def test_hooks_backend_through_worker_loader(images_case):
    images = DataLoader(images_case.dataset, batch_size=BATCH, num_workers=2)
    check_scores(grand(images_case.model, images, backend="hooks"), images_case.grand, GRAND_RTOL)


def test_loop_backend_named_runs_without_warning(tokens_case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        scores = grand(tokens_case.model, DictBatches(tokens_case.dataset), backend="loop")
    check_scores(scores, tokens_case.grand, GRAND_RTOL)


def test_loss_scores_on_dict_batches(tokens_case):
    check_scores(loss_scores(tokens_case.model, DictBatches(shuffled(tokens_case.dataset))), tokens_case.losses,
                 1e-5)


def test_model_is_left_as_it_was(images_case):
    model = copy.deepcopy(images_case.model).train()
    before = copy.deepcopy(model.state_dict())
    grand(model, DataLoader(images_case.dataset, batch_size=BATCH, num_workers=2))
    el2n(model, images_case.dataset)
    assert all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BatchNorm statistics too
