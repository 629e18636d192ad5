"""Datasets as in-memory tensors: official file formats, verified downloads, paper variants, augmentation.

Start with :func:`load_splits` (a named dataset, normalized) or :func:`prepare` (with label noise, imbalance,
per-class downsampling or a validation split); :func:`load_arrays` and :func:`from_torch_dataset` bring your own
data into memory. :func:`augment_batch` augments a batch on its device.

Scores and the scoring pass also take your data as it is (any ``Dataset``, ``DataLoader``, tensor pair, or dict
batches through :class:`DictBatches`; see :mod:`datadiet.data.batches`); :class:`WithPositions` adds each example's
position to its items, for the dynamic pruner's ``update(positions, losses)``; :func:`labels_of` reads the labels.

Names are imported when first used, so ``import datadiet.data.batches`` (what the scores need) does not load the
file formats, downloads and dataset registry.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "arrays": ("from_torch_dataset", "load_arrays"),
    "augment": ("AUGMENTATIONS", "augment_batch"),
    "batches": ("Batch", "Data", "DictBatches", "WithPositions", "iter_batches", "labels_of", "num_examples"),
    "dataset": ("IndexedDataset", "fingerprint"),
    "download": ("SOURCES", "Source"),
    "normalize": ("standardize",),
    "preparation": ("DataOptions", "prepare", "vary"),
    "registry": ("DATASETS", "DatasetSpec", "list_datasets", "load_splits"),
    "splits": ("Splits",),
    "variants": ("PAPER_IMBALANCE", "add_label_noise", "imbalance", "per_class", "split_validation"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'datadiet.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"datadiet.data.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
