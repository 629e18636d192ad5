"""CIFAR-10 and CIFAR-100 in the official "python version" format.

Each batch file is a pickle (written by Python 2) of a dict with ``b"data"``, a ``(n, 3072)`` uint8 array whose
rows are the red, green and blue 32x32 planes, and a list of labels (``b"labels"`` for CIFAR-10,
``b"fine_labels"`` for CIFAR-100). These official files are the only pickles datadiet reads, and it reads them
with an unpickler that can build nothing but dicts, lists, strings, numbers and uint8 arrays.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datadiet.data.archive import locate_tree
from datadiet.data.download import SOURCES, check_md5
from datadiet.data.splits import Splits, make_split

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

__all__ = ["read_batch", "load_cifar"]

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which no official CIFAR file contains")
        return _ALLOWED[module, name]


@dataclass(frozen=True)
class _Layout:
    folder: str
    meta: str
    names_key: bytes
    labels_key: bytes
    train: tuple[str, ...]
    test: str


_LAYOUTS = {
    "cifar10": _Layout("cifar-10-batches-py", "batches.meta", b"label_names", b"labels",
                       tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch"),
    "cifar100": _Layout("cifar-100-python", "meta", b"fine_label_names", b"fine_labels", ("train",), "test"),
}


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as err:  # a corrupt pickle can fail in many ways; all mean "not an official file"
        raise ValueError(f"{path} is not an official CIFAR pickle: {err}") from err
    if not isinstance(obj, dict):
        raise ValueError(f"{path} is not an official CIFAR pickle: it holds a {type(obj).__name__}, not a dict")
    return obj


def read_batch(path: Path, labels_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 3, 32, 32)`` uint8 and labels ``(n,)`` int64 of one official CIFAR batch file."""
    batch = _unpickle(path)
    x, y = batch.get(b"data"), batch.get(labels_key)
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072:
        found = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{path}: expected b'data' as a uint8 array (n, 3072), found {found}")
    if not isinstance(y, list) or len(y) != len(x):
        raise ValueError(f"{path}: expected {labels_key!r} as a list of {len(x)} labels")
    return x.reshape(-1, 3, 32, 32), np.asarray(y, dtype=np.int64)


def _check_files(name: str, folder: Path, files: list[str]) -> None:
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{name}: missing {', '.join(missing)} in {folder}")
    members = SOURCES[name].members
    for f in files:
        if f in members:
            check_md5(folder / f, members[f])


def load_cifar(name: str, data_dir: Path, *, download: bool = False) -> Splits:
    """Raw (uint8) splits of ``"cifar10"`` or ``"cifar100"`` (fine labels).

    ``data_dir`` is the extracted folder (``cifar-10-batches-py`` / ``cifar-100-python``), its parent, or the
    official ``.tar.gz``; an archive is md5-checked and extracted, downloaded first if ``download`` is True.
    """
    layout = _LAYOUTS[name]
    folder = locate_tree(name, data_dir, layout.meta, layout.folder, download=download)
    _check_files(name, folder, [layout.meta, *layout.train, layout.test])
    names = _unpickle(folder / layout.meta).get(layout.names_key)
    if not isinstance(names, list) or not all(isinstance(n, bytes) for n in names):
        raise ValueError(f"{folder / layout.meta}: expected {layout.names_key!r} as a list of class names")
    classes = tuple(n.decode() for n in names)
    parts = [read_batch(folder / f, layout.labels_key) for f in layout.train]
    train_x, train_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    test_x, test_y = read_batch(folder / layout.test, layout.labels_key)
    meta = {"source": str(folder)}
    return Splits(
        make_split(train_x, train_y, name=name, num_classes=len(classes), classes=classes, meta=meta),
        make_split(test_x, test_y, name=name, num_classes=len(classes), classes=classes, meta=meta),
    )
