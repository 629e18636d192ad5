"""Tiny datasets written in the official file formats (IDX, CIFAR pickles, PNG trees, tar archives)."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from datadiet.data.download import IDX_FILES, Source, md5sum


def write_idx(path: Path, array: np.ndarray, *, magic: bytes | None = None) -> Path:
    """Write ``array`` (uint8) as a gzip-compressed IDX file; ``magic`` overrides the 4-byte magic number."""
    header = magic if magic is not None else bytes([0, 0, 0x08, array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return path


def make_idx_dir(directory: Path, n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the four official MNIST-format files into ``directory``; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in IDX_FILES.items():
        write_idx(directory / images, arrays[f"x_{split}"])
        write_idx(directory / labels, arrays[f"y_{split}"])
    return arrays


class _Py2Pickler(pickle._Pickler):
    """Writes strings and bytes as Python 2 ``str`` opcodes, like the official CIFAR pickles."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj: bytes) -> None:
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)) + obj)
        self.memoize(obj)

    def save_str(self, obj: str) -> None:
        self.save_bytes(obj.encode("latin-1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def py2_pickle(obj: object) -> bytes:
    """Protocol-2 pickle as Python 2 with numpy 1 wrote it (globals under ``numpy.core.multiarray``)."""
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")


CIFAR_LAYOUT = {
    "cifar10": ("cifar-10-batches-py", "batches.meta", "label_names", "labels",
                [f"data_batch_{i}" for i in range(1, 6)], "test_batch", 10),
    "cifar100": ("cifar-100-python", "meta", "fine_label_names", "fine_labels", ["train"], "test", 100),
}


def make_cifar_dir(parent: Path, name: str, per_batch: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a tiny official-layout CIFAR folder under ``parent``; return the data rows and labels written."""
    folder, meta, names_key, labels_key, train_files, test_file, k = CIFAR_LAYOUT[name]
    rng = np.random.default_rng(seed)
    (parent / folder).mkdir(parents=True)
    (parent / folder / meta).write_bytes(py2_pickle({names_key: [f"class{c}" for c in range(k)]}))
    written = {}
    for split, files in (("train", train_files), ("test", [test_file])):
        data = rng.integers(0, 256, (per_batch * len(files), 3072), dtype=np.uint8)
        labels = rng.integers(0, k, len(data))
        for i, f in enumerate(files):
            rows = slice(i * per_batch, (i + 1) * per_batch)
            batch = {"batch_label": f, "data": data[rows], labels_key: labels[rows].tolist(),
                     "filenames": [f"img{j}.png" for j in range(per_batch)]}
            (parent / folder / f).write_bytes(py2_pickle(batch))
        written[f"x_{split}"], written[f"y_{split}"] = data, labels
    return written


def make_tar(archive: Path, root: Path, members: list[str]) -> Path:
    """A .tar.gz of ``root / member`` for each member (folders recursively), named as given."""
    with tarfile.open(archive, "w:gz") as tar:
        for m in members:
            tar.add(root / m, arcname=m)
    return archive


def make_image_tree(root: Path, parts: dict[str, dict[str, int]], size=(5, 4), mode="RGB", seed=0) -> dict:
    """Write ``root/<part>/<class>/<i>.png``; return {part: [(class, file name, pixels), ...]} in write order."""
    rng = np.random.default_rng(seed)
    written: dict[str, list] = {}
    for part, classes in parts.items():
        for cls, n in classes.items():
            (root / part / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
                pixels = rng.integers(0, 256, shape, dtype=np.uint8)
                Image.fromarray(pixels, mode).save(root / part / cls / f"img{i:02d}.png")
                written.setdefault(part, []).append((cls, f"img{i:02d}.png", pixels))
    return written


def tiny_source(directory: Path, files: list[str], base_url: str = "http://127.0.0.1:9/",
                members: dict[str, str] | None = None) -> Source:
    """A :class:`Source` with the md5 sums of the given files in ``directory``."""
    return Source(base_url, {f: md5sum(directory / f) for f in files}, members or {})
