"""Datasets from arrays: in-memory arrays, ``.npz`` files, and any torch ``Dataset`` of ``(x, y)`` pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from datadiet import files
from datadiet.data.dataset import IndexedDataset
from datadiet.data.normalize import standardize
from datadiet.data.splits import Splits, make_split

__all__ = ["ARRAY_KEYS", "read_npz", "raw_arrays", "load_arrays", "load_npz", "from_torch_dataset"]

ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
"""Arrays a ``.npz`` dataset file must hold (an optional ``classes`` array of strings names the classes)."""

ArrayLike = np.ndarray | torch.Tensor


def _numpy(a: ArrayLike) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _inputs(x: ArrayLike, what: str) -> np.ndarray:
    """``(N, L)`` -> ``(N, 1, L)``, ``(N, H, W)`` -> ``(N, 1, H, W)``, ``(N, C, H, W)`` kept; uint8 or float32.

    Inputs must be real numbers (integers or floats, not complex, boolean or text) and finite."""
    x = _numpy(x)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{what} must have shape (N, L), (N, H, W) or (N, C, H, W), got {x.shape}")
    if x.dtype == bool or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{what} must hold real numbers (integers or floats), got {x.dtype}")
    x = x[:, None] if x.ndim < 4 else x
    x = x if x.dtype == np.uint8 else x.astype(np.float32)
    bad = int(np.size(x) - np.isfinite(x).sum()) if x.dtype != np.uint8 else 0
    if bad:
        raise ValueError(f"{what} holds {bad} NaN or infinite values (or values too large for float32); inputs "
                         "must be finite")
    return x


def raw_arrays(
    x_train: ArrayLike, y_train: ArrayLike, x_test: ArrayLike, y_test: ArrayLike, *,
    name: str, classes: tuple[str, ...] | None = None, meta: dict | None = None,
) -> Splits:
    """Unnormalized splits from arrays (channels first; uint8 pixels are read as value / 255 later)."""
    xs = _inputs(x_train, "x_train"), _inputs(x_test, "x_test")
    ys = _numpy(y_train), _numpy(y_test)
    if xs[0].shape[1:] != xs[1].shape[1:]:
        raise ValueError(f"x_train examples have shape {xs[0].shape[1:]} but x_test examples {xs[1].shape[1:]}")
    num_classes = len(classes) if classes else int(max(y.max(initial=-1) for y in ys)) + 1
    return Splits(*(make_split(x, y, name=name, num_classes=num_classes, classes=tuple(classes or ()), meta=meta)
                    for x, y in zip(xs, ys)))


def load_arrays(
    x_train: ArrayLike, y_train: ArrayLike, x_test: ArrayLike, y_test: ArrayLike, name: str = "arrays",
    *, classes: tuple[str, ...] | None = None,
) -> Splits:
    """Normalized splits from in-memory arrays.

    Inputs are ``(N, L)``, ``(N, H, W)`` or channels-first ``(N, C, H, W)``; uint8 inputs are pixels. Labels are
    integers ``0..K-1`` with K = ``len(classes)`` or the largest label + 1. Normalized like :func:`load_splits`.
    """
    return standardize(raw_arrays(x_train, y_train, x_test, y_test, name=name, classes=classes))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a dataset ``.npz`` file (loaded without pickle), checking that ``ARRAY_KEYS`` are present."""
    if not path.exists():
        raise FileNotFoundError(f"no file {path}: expected a .npz file with {', '.join(ARRAY_KEYS)}")
    arrays = files.read_npz(path, "dataset file")
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{path} lacks {missing}: a dataset .npz holds {list(ARRAY_KEYS)} (+ optional classes)")
    return {k: v for k, v in arrays.items() if k in (*ARRAY_KEYS, "classes")}


def load_npz(path: Path) -> Splits:
    """Raw splits of a ``.npz`` file with ``x_train, y_train, x_test, y_test`` (+ optional ``classes``)."""
    arrays = read_npz(path)
    classes = tuple(str(c) for c in arrays.pop("classes")) if "classes" in arrays else None
    return raw_arrays(**arrays, name=path.stem, classes=classes, meta={"source": str(path)})


def _label(value: object, what: str) -> int:
    """One example's class label: an integer (Python, NumPy or a 0-d integer tensor), never a truncated float."""
    label = _numpy(value) if isinstance(value, torch.Tensor) else np.asarray(value)
    if label.shape != () or label.dtype == bool or not np.issubdtype(label.dtype, np.integer):
        raise ValueError(f"{what} has label {value!r}: labels must be integers 0..K-1")
    return int(label)


def from_torch_dataset(
    dataset: torch.utils.data.Dataset, num_classes: int | None = None, name: str = "dataset"
) -> IndexedDataset:
    """Gather a map-style torch ``Dataset`` of ``(x, y)`` pairs into an :class:`IndexedDataset`.

    Inputs are stacked as float32 exactly as the dataset returns them (apply normalization in its transform);
    original indices are ``0..N-1`` in the dataset's order. K is ``num_classes``, else ``len(dataset.classes)``
    if the dataset has class names, else the largest label + 1.
    """
    xs, ys = [], []
    for i in range(len(dataset)):  # type: ignore[arg-type]  # torch's Dataset type declares no __len__
        item = dataset[i]
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"{name}: item {i} is not an (x, y) pair")
        xs.append(_numpy(item[0]).astype(np.float32))
        ys.append(_label(item[1], f"{name}: item {i}"))
        if xs[-1].shape != xs[0].shape:
            raise ValueError(f"{name}: item {i} has input shape {xs[-1].shape}, item 0 has {xs[0].shape}")
    if not xs:
        raise ValueError(f"{name}: the dataset is empty")
    classes = tuple(str(c) for c in getattr(dataset, "classes", ()))
    k = num_classes or len(classes) or max(ys) + 1
    return make_split(
        np.stack(xs), np.asarray(ys, dtype=np.int64), name=name, num_classes=k,
        classes=classes if len(classes) == k else (), meta={"source": type(dataset).__name__},
    )
