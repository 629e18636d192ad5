"""Datasets as in-memory tensors: official file formats, verified downloads, paper variants, augmentation.

Start with :func:`load_splits` (a named dataset, normalized) or :func:`prepare` (with label noise, imbalance,
per-class downsampling or a validation split); :func:`load_arrays` and :func:`from_torch_dataset` bring your own
data. :func:`augment_batch` augments a batch on its device.
"""

from datadiet.data.arrays import from_torch_dataset, load_arrays
from datadiet.data.augment import AUGMENTATIONS, augment_batch
from datadiet.data.dataset import IndexedDataset, fingerprint
from datadiet.data.download import SOURCES, Source
from datadiet.data.normalize import standardize
from datadiet.data.prepare import DataOptions, prepare
from datadiet.data.registry import DATASETS, DatasetSpec, list_datasets, load_splits
from datadiet.data.splits import Splits
from datadiet.data.variants import PAPER_IMBALANCE, add_label_noise, imbalance, per_class, split_validation

__all__ = [
    "AUGMENTATIONS",
    "DATASETS",
    "DataOptions",
    "DatasetSpec",
    "IndexedDataset",
    "PAPER_IMBALANCE",
    "SOURCES",
    "Source",
    "Splits",
    "add_label_noise",
    "augment_batch",
    "fingerprint",
    "from_torch_dataset",
    "imbalance",
    "list_datasets",
    "load_arrays",
    "load_splits",
    "per_class",
    "prepare",
    "split_validation",
    "standardize",
]
