"""Datasets that need no download: scikit-learn's bundled digits and the procedurally generated MNIST-1D."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from datadiet.data.arrays import ARRAY_KEYS, raw_arrays, read_npz
from datadiet.data.splits import Splits, make_split
from datadiet.files import atomic_write

__all__ = ["DIGITS_TEST_SIZE", "load_digits", "load_mnist1d"]

DIGITS_TEST_SIZE = 360
"""The last 360 of scikit-learn's 1,797 digits form the test split (no shuffling: a fixed, documented split)."""

_DIGIT_NAMES = tuple(str(d) for d in range(10))


def load_digits() -> Splits:
    """Raw digits splits: 8x8 images ``(N, 1, 8, 8)`` with values 0..16; train 1,437, test 360.

    scikit-learn ships no train/test split; the first 1,437 examples (in its order) train, the rest test.
    Test original indices count from 0 within the test split (``meta["offset"]`` gives its start).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x, y = bunch.images.astype(np.float32)[:, None], bunch.target
    cut = len(y) - DIGITS_TEST_SIZE
    kw: dict[str, Any] = {"name": "digits", "num_classes": 10, "classes": _DIGIT_NAMES}
    meta = {"source": "sklearn.datasets.load_digits"}
    return Splits(
        make_split(x[:cut], y[:cut], **kw, meta={**meta, "offset": 0}),
        make_split(x[cut:], y[cut:], **kw, meta={**meta, "offset": cut}),
    )


def _generate_mnist1d() -> dict[str, np.ndarray]:
    """Generate MNIST-1D with the package's default arguments, leaving the global random states untouched."""
    from mnist1d.data import get_dataset_args, make_dataset

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return dict(zip(ARRAY_KEYS, (data["x"], data["y"], data["x_test"], data["y_test"])))


def load_mnist1d(data_dir: Path | None = None) -> Splits:
    """Raw MNIST-1D splits (default generator arguments, seed 42): ``(N, 1, 40)`` float32, 4,000 / 1,000.

    Generation takes a few seconds; with ``data_dir`` the arrays are cached there as ``mnist1d.npz``.
    """
    cache = data_dir / "mnist1d.npz" if data_dir is not None else None
    if cache is not None and cache.is_file():
        arrays = read_npz(cache)
    else:
        arrays = _generate_mnist1d()
        if cache is not None:
            _write_cache(cache, arrays)
    source = str(cache) if cache else "generated"
    return raw_arrays(**arrays, name="mnist1d", classes=_DIGIT_NAMES, meta={"source": source})


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the cache atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub checks **kwds against allow_pickle

    atomic_write(path, write)
