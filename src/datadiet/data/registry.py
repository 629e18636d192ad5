"""The named datasets datadiet can load, and :func:`load_splits`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from datadiet.data.arrays import load_npz
from datadiet.data.cifar import load_cifar
from datadiet.data.folder import load_cinic10, load_image_folder
from datadiet.data.generated import load_digits, load_mnist1d
from datadiet.data.idx import load_idx
from datadiet.data.normalize import standardize
from datadiet.data.splits import Splits

__all__ = ["DatasetSpec", "DATASETS", "list_datasets", "get_spec", "load_raw", "load_splits"]

_DIGITS = tuple(str(d) for d in range(10))
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_KMNIST = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one named dataset.

    Attributes:
        load: ``load(data_dir, download=...)`` -> raw (unnormalized) splits.
        augment: default training augmentation (see :data:`datadiet.data.augment.AUGMENTATIONS`).
        data_dir: what ``data_dir`` must point at; empty if the dataset needs no files.
    """

    name: str
    load: Callable[..., Splits]
    description: str
    augment: str = "none"
    data_dir: str = ""


_IDX_DIR = "the folder holding the four official IDX .gz files (train-images-idx3-ubyte.gz, ...)"
_SPECS = (
    DatasetSpec("mnist", partial(load_idx, "mnist", classes=_DIGITS), "MNIST digits, 28x28, 60k/10k",
                data_dir=_IDX_DIR),
    DatasetSpec("fashion-mnist", partial(load_idx, "fashion-mnist", classes=_FASHION),
                "Fashion-MNIST, 28x28 grayscale, 60k/10k", data_dir=_IDX_DIR),
    DatasetSpec("kmnist", partial(load_idx, "kmnist", classes=_KMNIST), "Kuzushiji-MNIST, 28x28, 60k/10k",
                data_dir=_IDX_DIR),
    DatasetSpec("cifar10", partial(load_cifar, "cifar10"), "CIFAR-10, 32x32 RGB, 50k/10k", augment="crop-flip",
                data_dir="cifar-10-batches-py/, its parent folder, or cifar-10-python.tar.gz"),
    DatasetSpec("cifar100", partial(load_cifar, "cifar100"), "CIFAR-100 (fine labels), 32x32 RGB, 50k/10k",
                augment="crop-flip", data_dir="cifar-100-python/, its parent folder, or cifar-100-python.tar.gz"),
    DatasetSpec("cinic10", load_cinic10, "CINIC-10, 32x32 RGB, train+valid 180k / test 90k", augment="crop-flip",
                data_dir="the folder holding train/ valid/ test/ (or CINIC-10/), or CINIC-10.tar.gz"),
    DatasetSpec("folder", lambda d, download: load_image_folder(d), "any train/<class>/ + test/<class>/ image tree",
                data_dir="a folder with train/<class>/*.png|jpg and test/<class>/..."),
    DatasetSpec("digits", lambda d, download: load_digits(), "scikit-learn digits, 8x8, 1437/360 (bundled)"),
    DatasetSpec("mnist1d", lambda d, download: load_mnist1d(d),
                "MNIST-1D, length 40, 4000/1000 (generated; cached in data_dir if given)"),
    DatasetSpec("npz", lambda d, download: load_npz(d), "user arrays from a .npz file",
                data_dir="a .npz file with x_train, y_train, x_test, y_test (+ optional classes)"),
)
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_splits`, sorted."""
    return sorted(DATASETS)


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; ``ValueError`` listing valid names if unknown."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(list_datasets())}")
    return DATASETS[name]


def load_raw(name: str, data_dir: str | Path | None = None, *, download: bool = False) -> Splits:
    """Unnormalized splits of dataset ``name`` (uint8 pixels or floats), with its default augmentation set."""
    spec = get_spec(name)
    if spec.data_dir and data_dir is None:
        raise ValueError(f"dataset {name!r} is read from files: pass data_dir, {spec.data_dir}")
    splits = spec.load(None if data_dir is None else Path(data_dir).expanduser(), download=download)
    augment = spec.augment
    return Splits(replace(splits.train, augment=augment), replace(splits.test, augment=augment),
                  None if splits.val is None else replace(splits.val, augment=augment))


def load_splits(name: str, data_dir: str | Path | None = None, *, download: bool = False) -> Splits:
    """Train and test splits of dataset ``name``, inputs float32 normalized per channel by the training split.

    Args:
        name: one of :func:`list_datasets`.
        data_dir: where the dataset's files are (see ``DATASETS[name].data_dir``); unused by "digits", a cache
            folder for "mnist1d".
        download: fetch missing official files (md5-checked) into ``data_dir``.

    Returns:
        ``Splits(train, test)``; ``meta["mean"]`` / ``meta["std"]`` hold the statistics (pixels in [0, 1] units).
    """
    return standardize(load_raw(name, data_dir, download=download))
