"""Per-channel input normalization by the statistics of the training split.

Loaders produce raw splits (uint8 pixels or floats); :func:`standardize` turns them into float32 inputs with
per-channel mean 0 and standard deviation 1 on the training split, applying the same affine map to every split.
8-bit pixels are read as ``value / 255``, so the recorded statistics of image datasets are in ``[0, 1]`` units.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from datadiet.data.dataset import IndexedDataset
from datadiet.data.splits import Splits

__all__ = ["channel_stats", "standardize"]

_CHUNK_ELEMENTS = 1 << 22


def _unit(x: torch.Tensor) -> float:
    """The value of 1.0 in x's units: 255 for 8-bit pixels, else 1."""
    return 255.0 if x.dtype == torch.uint8 else 1.0


def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) standard deviation per channel of ``x`` ``(N, C, ...)``, each ``(C,)`` float64.

    8-bit pixels: exact, from a 256-bin histogram per channel. Other inputs: two passes in float64 over chunks of
    examples, so memory stays small and the result is accurate.
    """
    if len(x) == 0:
        raise ValueError("cannot compute normalization statistics of an empty training split")
    if x.dtype == torch.uint8:
        counts = torch.stack([torch.bincount(x[:, c].flatten(), minlength=256) for c in range(x.shape[1])]).double()
        values = torch.arange(256, dtype=torch.float64)
        mean = (counts * values).sum(1) / counts.sum(1)
        var = (counts * (values - mean[:, None]) ** 2).sum(1) / counts.sum(1)
        return mean, var.sqrt()
    dims = [0, *range(2, x.dim())]
    chunks = x.split(max(1, _CHUNK_ELEMENTS // max(1, x[0].numel())))
    count = x.numel() // x.shape[1]
    mean = sum(c.double().sum(dims) for c in chunks) / count
    shape = (1, -1) + (1,) * (x.dim() - 2)
    var = sum(((c.double() - mean.view(shape)) ** 2).sum(dims) for c in chunks) / count
    return mean, var.sqrt()


def standardize(splits: Splits) -> Splits:
    """Normalize every split by the training split's per-channel mean and std (a constant channel keeps std 1).

    Returns new float32 ``(N, C, ...)`` contiguous inputs; ``meta["mean"]`` and ``meta["std"]`` record the statistics.
    """
    train = splits.train
    mean, std = channel_stats(train.x)
    mean, std = mean / _unit(train.x), std / _unit(train.x)
    std = torch.where(std > 0, std, torch.ones_like(std))
    stats = {"mean": mean.tolist(), "std": std.tolist(), "normalized_by": f"{train.name} (N={len(train)})"}

    def apply(ds: IndexedDataset) -> IndexedDataset:
        shape = (1, -1) + (1,) * (ds.x.dim() - 2)
        unit = _unit(ds.x)
        x = torch.empty(ds.x.shape, dtype=torch.float32).copy_(ds.x)
        x.sub_((mean * unit).view(shape).float()).div_((std * unit).view(shape).float())
        return replace(ds, x=x, meta={**ds.meta, **stats})

    return Splits(apply(train), apply(splits.test), None if splits.val is None else apply(splits.val))
