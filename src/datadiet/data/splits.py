"""Train / test (/ validation) splits and the one constructor every loader uses."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from datadiet.data.dataset import IndexedDataset

__all__ = ["Splits", "make_split"]


class Splits(NamedTuple):
    """The splits of a dataset. ``val`` is None unless a validation split was held out of ``train``.

    Three fields: use the attributes, or unpack all three (``train, test, val = splits``).
    """

    train: IndexedDataset
    test: IndexedDataset
    val: IndexedDataset | None = None


def make_split(
    x: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    num_classes: int,
    classes: tuple[str, ...] = (),
    meta: dict | None = None,
) -> IndexedDataset:
    """Wrap one split's arrays, original indices ``0..N-1``, after checking the labels.

    Args:
        x: inputs ``(N, C, ...)``, uint8 pixels or floats, not yet normalized.
        y: integer labels ``(N,)`` in ``0..num_classes-1``.
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: labels must be a 1-D integer array, got dtype {y.dtype} and shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{name}: {len(x)} inputs but {len(y)} labels")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name}: labels must lie in 0..{num_classes - 1}, found {y.min()}..{y.max()}")
    if not x.flags.writeable:
        x = x.copy()
    return IndexedDataset(
        x=torch.from_numpy(x),
        y=torch.from_numpy(y.astype(np.int64)),
        index=torch.arange(len(y)),
        num_classes=num_classes,
        name=name,
        classes=tuple(classes),
        meta=dict(meta or {}),
    )
