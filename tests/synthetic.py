"""Tiny synthetic datasets for tests."""

from __future__ import annotations

import torch

from datadiet.data.dataset import IndexedDataset


def make_blobs(n: int = 96, num_classes: int = 3, dim: int = 8, seed: int = 0) -> IndexedDataset:
    """Linearly separable-ish Gaussian blobs, shape (n, dim), labels cycling over classes."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % num_classes
    centers = torch.randn(num_classes, dim, generator=g) * 2
    x = centers[y] + torch.randn(n, dim, generator=g)
    return IndexedDataset(x=x, y=y, index=torch.arange(n), num_classes=num_classes, name="blobs")
