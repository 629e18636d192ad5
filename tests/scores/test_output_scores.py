"""EL2N, loss, margin and input norm against NumPy formulas on the model's logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from datadiet.scores import el2n, input_norm, loss_scores, margin


def _model_and_data(blobs, tiny_mlp):
    model = tiny_mlp(seed=0)
    nn.init.normal_(model[2].weight, std=3.0)  # spread-out logits, some examples misclassified
    with torch.no_grad():
        logits = model(blobs.x).double().numpy()
    return model, logits, blobs.y.numpy()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_el2n_formula(blobs, tiny_mlp):
    model, z, y = _model_and_data(blobs, tiny_mlp)
    expected = np.linalg.norm(_softmax(z) - np.eye(z.shape[1])[y], axis=1)
    got = el2n(model, blobs, batch_size=10)
    assert got.dtype == np.float64 and got.shape == (len(y),)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_loss_formula(blobs, tiny_mlp):
    model, z, y = _model_and_data(blobs, tiny_mlp)
    expected = -np.log(_softmax(z)[np.arange(len(y)), y])
    np.testing.assert_allclose(loss_scores(model, blobs, batch_size=7), expected, rtol=1e-6)


def test_margin_is_best_other_logit_minus_true_logit(blobs, tiny_mlp):
    model, z, y = _model_and_data(blobs, tiny_mlp)
    expected = [max(np.delete(row, label)) - row[label] for row, label in zip(z, y)]
    got = margin(model, blobs)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    misclassified = z.argmax(1) != y
    assert misclassified.any() and (~misclassified).any()
    assert np.all(got[misclassified] >= 0) and np.all(got[~misclassified] <= 0)


def test_input_norm(blobs):
    expected = np.linalg.norm(blobs.x.double().numpy().reshape(len(blobs), -1), axis=1)
    np.testing.assert_allclose(input_norm(blobs, batch_size=10), expected, rtol=1e-12)


def test_tensor_pair_and_eval_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3))
    model[1].running_mean.uniform_(-1, 1)
    model.train()
    x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    first, second = el2n(model, (x, y), batch_size=3), el2n(model, (x, y.int()))
    np.testing.assert_array_equal(first, second)  # eval mode: no dropout, running statistics
    assert model.training and all(m.training for m in model.modules())
    state = {k: v.clone() for k, v in model.state_dict().items()}
    loss_scores(model, (x, y))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


@pytest.mark.parametrize("score", [el2n, loss_scores, margin])
def test_bad_data(score, tiny_mlp):
    model = tiny_mlp()
    with pytest.raises(ValueError, match="cannot score a Tensor: valid data is a pair"):
        score(model, torch.randn(5, 8))
    with pytest.raises(ValueError, match="integer"):
        score(model, (torch.randn(5, 8), torch.rand(5)))
    with pytest.raises(ValueError, match="shape"):
        score(model, (torch.randn(5, 8), torch.zeros(4, dtype=torch.long)))
    assert score(model, (torch.randn(0, 8), torch.zeros(0, dtype=torch.long))).shape == (0,)
