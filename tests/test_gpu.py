"""On CUDA: GraNd against the loop oracle, EL2N equal to the CPU's, and a mixed-precision training run.

Marked ``gpu``: deselected by default, run with ``pytest -m gpu`` on a machine with a CUDA device
(``benchmarks/gpu_check.sh`` runs them with the other device checks).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from datadiet.data import load_splits
from datadiet.models import create_model
from datadiet.scores import el2n, grand
from datadiet.training import TrainConfig, train
from reference import loop_grad_norms

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _cnn() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    with torch.no_grad():  # statistics as after some training, so evaluation mode is not the identity
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    return model


def test_grand_on_cuda_matches_the_loop_oracle():
    x, y = torch.randn(40, 1, 8, 8, generator=torch.Generator().manual_seed(1)), torch.arange(40) % 3
    model = _cnn().double()
    expected = loop_grad_norms(model, x.double(), y)
    cuda = model.cuda()
    for backend in ("hooks", "func", "loop"):
        got = grand(cuda, (x.double().cuda(), y.cuda()), batch_size=16, backend=backend)
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=backend)


def test_el2n_on_cuda_equals_the_cpu():
    x, y = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(2)), torch.arange(64) % 3
    model = _cnn()
    on_cpu = el2n(model, (x, y))
    np.testing.assert_allclose(el2n(model.cuda(), (x, y)), on_cpu, atol=1e-5)


@pytest.mark.parametrize("precision", ["auto", "bf16", "fp16"])
def test_mixed_precision_training_on_cuda(precision):
    splits = load_splits("digits")
    torch.manual_seed(0)
    model = create_model("mlp", splits.train.num_classes, splits.train.in_channels, width=0.5,
                         input_shape=splits.train.input_shape)
    result = train(model, splits.train, TrainConfig(epochs=3, lr=0.05, precision=precision, progress=False),
                   test_data=splits.test, device="cuda")
    assert all(torch.isfinite(p).all() for p in result.model.parameters())
    assert result.metrics["test_accuracy"] > 0.8
