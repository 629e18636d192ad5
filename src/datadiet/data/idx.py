"""MNIST-style datasets in the official IDX format, gzip-compressed (MNIST, Fashion-MNIST, KMNIST).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one big-endian
uint32 per dimension, then the values in C order. Images are ``(N, H, W)`` uint8, labels ``(N,)`` uint8.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from datadiet.data.download import IDX_FILES, fetch
from datadiet.data.splits import Splits, make_split

__all__ = ["read_idx", "load_idx"]

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse a gzip-compressed IDX file expected to hold an ``ndim``-dimensional array.

    Raises ``ValueError`` naming the file for a bad gzip stream, a wrong magic number or a size mismatch.
    """
    try:
        with gzip.open(path, "rb") as f:
            data = bytearray(f.read())
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path} is not a readable gzip file ({err}); expected a gzip-compressed IDX file") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES or data[3] != ndim:
        raise ValueError(
            f"{path}: bad IDX magic number {bytes(data[:4]).hex()}; expected 0000 + a type code "
            f"({', '.join(f'{t:02x}' for t in _TYPES)}) + {ndim:02x} for a {ndim}-dimensional array"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected at least {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    dtype = np.dtype(_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path}: {len(data)} bytes, but its header announces shape {shape} of {dtype.name}: expected {expected}"
            f" bytes ({'truncated' if len(data) < expected else 'trailing data'})"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _read_pair(images: Path, labels: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, H, W)`` uint8 and labels ``(N,)`` from an IDX image file and its label file."""
    x, y = read_idx(images, 3), read_idx(labels, 1)
    if len(x) != len(y):
        raise ValueError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels")
    if x.dtype != np.uint8 or y.dtype != np.uint8:
        raise ValueError(f"{images} / {labels}: expected unsigned bytes (type code 08), got {x.dtype} / {y.dtype}")
    if len(y) and y.max() >= num_classes:
        raise ValueError(f"{labels}: labels must lie in 0..{num_classes - 1}, found {y.max()}")
    return x[:, None], y


def load_idx(name: str, data_dir: Path, classes: tuple[str, ...], *, download: bool = False) -> Splits:
    """Raw (uint8, unnormalized) splits of an IDX dataset whose four official ``.gz`` files are in ``data_dir``.

    Files found are md5-checked; missing ones are downloaded when ``download`` is True.
    """
    fetch(name, data_dir, download=download)
    meta = {"source": str(data_dir)}
    splits = {}
    for split, (images, labels) in IDX_FILES.items():
        x, y = _read_pair(data_dir / images, data_dir / labels, len(classes))
        splits[split] = make_split(x, y, name=name, num_classes=len(classes), classes=classes, meta=meta)
    return Splits(splits["train"], splits["test"])
