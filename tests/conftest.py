"""Shared fixtures: tiny synthetic datasets and models, and the path of the real data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from datadiet.data.dataset import IndexedDataset
from synthetic import make_blobs

torch.set_num_threads(1)  # tiny test models gain nothing from threads, and lose a lot on a busy machine

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def blobs() -> IndexedDataset:
    return make_blobs()


@pytest.fixture
def tiny_mlp():
    def make(seed: int = 0, dim: int = 8, num_classes: int = 3) -> nn.Module:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, num_classes))

    return make


@pytest.fixture
def fashion_dir() -> Path:
    path = SHARED_DATA / "fashion-mnist"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    return path
