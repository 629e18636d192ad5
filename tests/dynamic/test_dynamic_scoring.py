"""The scoring pass against a one-example-at-a-time loop, in evaluation mode."""

from __future__ import annotations

import pytest
import torch
from reference import loop_cross_entropy
from torch import nn
from torch.utils.data import TensorDataset

from datadiet.dynamic import scoring_pass


def bn_model() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    model.train()
    model(torch.randn(64, 8) * 3 + 1)  # move the running statistics away from their defaults
    return model


def test_scoring_pass_matches_loop_and_restores_mode(blobs):
    model = bn_model()
    losses = scoring_pass(model, blobs, batch_size=10)
    assert model.training
    expected = loop_cross_entropy(model, blobs.x, blobs.y)
    assert losses.shape == (len(blobs),) and losses.dtype == torch.float32
    assert torch.allclose(losses, torch.tensor(expected), atol=1e-5)
    losses.add_(1.0)  # an ordinary tensor, usable outside inference mode


def test_tensor_datasets_with_or_without_index(blobs):
    model = bn_model()
    reference = scoring_pass(model, blobs)
    assert torch.equal(scoring_pass(model, TensorDataset(blobs.x, blobs.y)), reference)
    assert torch.equal(scoring_pass(model, TensorDataset(blobs.index, blobs.x, blobs.y), batch_size=7), reference)


def test_unsupported_data_is_refused(blobs):
    valid = r"cannot score a int: valid data is a pair \(x, y\) of tensors, a map-style Dataset"
    with pytest.raises(ValueError, match=valid):
        scoring_pass(bn_model(), 42)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        scoring_pass(bn_model(), blobs, batch_size=0)


def test_a_bfloat16_pass_is_the_loop_under_autocast_and_ranks_as_float32(blobs):
    from scipy.stats import spearmanr

    model = bn_model()
    fp32 = scoring_pass(model, blobs, batch_size=10)
    bf16 = scoring_pass(model, blobs, batch_size=10, precision="bf16")
    assert model.training and bf16.dtype == torch.float32 and bf16.shape == fp32.shape
    assert not torch.equal(bf16, fp32)  # the forward pass did run in bfloat16
    expected = torch.tensor(loop_cross_entropy(model, blobs.x, blobs.y, autocast_dtype=torch.bfloat16))
    assert torch.allclose(bf16, expected, rtol=2e-2, atol=2e-2)
    assert spearmanr(bf16, fp32).statistic > 0.99
    with pytest.raises(ValueError, match="unknown score_precision 'fp16'; valid: fp32, bf16"):
        scoring_pass(model, blobs, precision="fp16")


def test_enter_epoch_scores_in_the_precision_it_is_given(blobs):
    from datadiet.dynamic import DynamicPruner
    from datadiet.dynamic.scoring import enter_epoch

    model = bn_model()
    pruner = DynamicPruner(len(blobs), policy="ucb", keep=0.5, period=1, epochs=2, warmup_epochs=0, seed=0,
                           class_balanced=False)
    assert enter_epoch(pruner, 0, model, blobs, score_precision="bf16") == len(blobs)
    assert torch.equal(pruner.tracker.latest, scoring_pass(model, blobs, precision="bf16"))
    assert not torch.equal(pruner.tracker.latest, scoring_pass(model, blobs))
