"""Training-set variants of the papers, as pure functions of a dataset and a seed.

Each returns a new :class:`IndexedDataset` (original indices kept, name extended, the variant appended to
``meta["variants"]``); the same seed always gives the same result. Per-class choices are uniform without
replacement within each class, by the observed labels ``ds.y``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from datadiet.data.dataset import IndexedDataset

__all__ = ["PAPER_IMBALANCE", "add_label_noise", "imbalance", "per_class", "split_validation"]

PAPER_IMBALANCE = (0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0, 1.0)
"""Keep rates of the imbalanced CIFAR-10 of "Accelerating Deep Learning with Dynamic Data Pruning"."""


def _sample_per_class(y: np.ndarray, take: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``take[c]`` examples drawn uniformly without replacement from each class c."""
    order = rng.permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]
    labels = y[order]
    rank = np.arange(len(y)) - np.searchsorted(labels, labels)
    return np.sort(order[rank < take[labels]])


def _derive(ds: IndexedDataset, positions: np.ndarray, suffix: str, record: dict) -> IndexedDataset:
    """The subset at ``positions`` with name ``ds.name + suffix`` and ``record`` appended to its variants."""
    meta = {**ds.meta, "variants": [*ds.meta.get("variants", []), record]}
    return replace(ds.subset(positions, name=ds.name + suffix), meta=meta)


def _counts(ds: IndexedDataset) -> np.ndarray:
    return np.bincount(ds.y.cpu().numpy(), minlength=ds.num_classes)


def add_label_noise(ds: IndexedDataset, fraction: float, seed: int) -> IndexedDataset:
    """Permute the labels of ``round(fraction * N)`` uniformly chosen examples among themselves.

    The label histogram is unchanged. ``noise_mask`` marks the chosen examples (about 1/K of them keep their
    label by chance) and ``clean_y`` holds the labels before noise.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"label noise fraction must be in [0, 1), got {fraction}")
    if ds.noise_mask is not None:
        raise ValueError(f"{ds.name} already has label noise; add noise once, to a clean dataset")
    rng = np.random.default_rng(seed)
    chosen = torch.from_numpy(rng.choice(len(ds), size=round(fraction * len(ds)), replace=False))
    perm = torch.from_numpy(rng.permutation(len(chosen)))
    y = ds.y.clone()
    y[chosen] = ds.y[chosen[perm]]
    mask = torch.zeros(len(ds), dtype=torch.bool)
    mask[chosen] = True
    meta = {**ds.meta, "variants": [*ds.meta.get("variants", []), {"noise": fraction, "seed": seed}]}
    return replace(ds, y=y, noise_mask=mask, clean_y=ds.y.clone(), name=f"{ds.name}+noise{fraction:g}", meta=meta)


def imbalance(ds: IndexedDataset, keep_rates: Sequence[float], seed: int) -> IndexedDataset:
    """Keep ``round(keep_rates[c] * n_c)`` uniformly chosen examples of each class c (rates in ``(0, 1]``)."""
    rates = np.asarray(keep_rates, dtype=np.float64)
    if rates.shape != (ds.num_classes,) or not ((rates > 0) & (rates <= 1)).all():
        raise ValueError(f"keep_rates must be {ds.num_classes} rates in (0, 1], one per class, got {list(keep_rates)}")
    take = np.rint(rates * _counts(ds)).astype(np.int64)
    positions = _sample_per_class(ds.y.cpu().numpy(), take, np.random.default_rng(seed))
    return _derive(ds, positions, "+imbalanced", {"imbalance": rates.tolist(), "seed": seed})


def per_class(ds: IndexedDataset, n: int, seed: int) -> IndexedDataset:
    """Keep ``n`` uniformly chosen examples of every class; a class with fewer is a ``ValueError``."""
    if n <= 0:
        raise ValueError(f"examples per class must be positive, got {n}")
    counts = _counts(ds)
    if (counts < n).any():
        short = {ds.classes[c] if ds.classes else int(c): int(counts[c]) for c in np.flatnonzero(counts < n)}
        raise ValueError(f"{ds.name}: cannot keep {n} per class, these classes have fewer: {short}")
    positions = _sample_per_class(ds.y.cpu().numpy(), np.full(ds.num_classes, n), np.random.default_rng(seed))
    return _derive(ds, positions, f"+{n}-per-class", {"per_class": n, "seed": seed})


def split_validation(ds: IndexedDataset, fraction: float, seed: int) -> tuple[IndexedDataset, IndexedDataset]:
    """Hold out ``round(fraction * n_c)`` uniformly chosen examples of each class c: returns ``(train, val)``.

    The two are disjoint and together make up ``ds``. Names: ``<name>+val<fraction>`` and ``...:val``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}")
    take = np.rint(fraction * _counts(ds)).astype(np.int64)
    held = _sample_per_class(ds.y.cpu().numpy(), take, np.random.default_rng(seed))
    if len(held) in (0, len(ds)):
        raise ValueError(f"validation fraction {fraction} of {len(ds)} examples leaves an empty train or val split")
    kept = np.setdiff1d(np.arange(len(ds)), held)
    record = {"val_fraction": fraction, "seed": seed}
    suffix = f"+val{fraction:g}"
    return _derive(ds, kept, suffix, record), _derive(ds, held, suffix + ":val", record)
