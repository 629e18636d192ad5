"""Datasets as in-memory tensors: official file formats, verified downloads, paper variants, augmentation.

Start with :func:`load_splits` (a named dataset, normalized) or :func:`prepare` (with label noise, imbalance,
per-class downsampling or a validation split); :func:`load_arrays` and :func:`from_torch_dataset` bring your own
data into memory. :func:`augment_batch` augments a batch on its device.

Scores and the scoring pass also take your data as it is (any ``Dataset``, ``DataLoader``, tensor pair, or dict
batches through :class:`DictBatches`; see :mod:`datadiet.data.batches`); :class:`WithPositions` adds each example's
position to its items, for the dynamic pruner's ``update(positions, losses)``; :func:`labels_of` reads the labels.
"""

from datadiet.data.arrays import from_torch_dataset, load_arrays
from datadiet.data.augment import AUGMENTATIONS, augment_batch
from datadiet.data.batches import Batch, Data, DictBatches, WithPositions, iter_batches, labels_of, num_examples
from datadiet.data.dataset import IndexedDataset, fingerprint
from datadiet.data.download import SOURCES, Source
from datadiet.data.normalize import standardize
from datadiet.data.prepare import DataOptions, prepare
from datadiet.data.registry import DATASETS, DatasetSpec, list_datasets, load_splits
from datadiet.data.splits import Splits
from datadiet.data.variants import PAPER_IMBALANCE, add_label_noise, imbalance, per_class, split_validation

__all__ = [
    "AUGMENTATIONS",
    "Batch",
    "Data",
    "DictBatches",
    "WithPositions",
    "iter_batches",
    "labels_of",
    "num_examples",
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
