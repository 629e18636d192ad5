"""Class-per-folder image trees: any ``root/train/<class>/*.png|jpg`` + ``root/test/<class>/...``, and CINIC-10.

Files are ordered by split part, class name, then file name, so original indices are stable across machines.
Images are decoded with PIL and converted to RGB, or kept as one channel when every image is grayscale; all
images must share one size.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from datadiet.data.archive import locate_tree
from datadiet.data.splits import Splits, make_split

__all__ = [
    "IMAGE_SUFFIXES", "CINIC10_SIZES", "class_names", "list_images", "read_images", "load_image_folder", "load_cinic10",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CINIC10_SIZES = {"train": 90_000, "valid": 90_000, "test": 90_000}
"""Number of images in each part of the official CINIC-10 tree (checked on load)."""


def class_names(part: Path) -> tuple[str, ...]:
    """Sorted names of the class folders in ``part``."""
    if not part.is_dir():
        raise FileNotFoundError(f"no folder {part}: expected one subfolder per class with .png/.jpg images")
    return tuple(sorted(d.name for d in part.iterdir() if d.is_dir()))


def list_images(part: Path, classes: tuple[str, ...]) -> tuple[list[Path], np.ndarray]:
    """Image files of ``part/<class>/`` in stable order (class, then file name) and their labels ``(N,)``.

    A class folder not in ``classes`` (the training classes) is a ``ValueError``.
    """
    unknown = sorted(set(class_names(part)) - set(classes))
    if unknown:
        raise ValueError(f"{part}: class folders {unknown} are not training classes; valid: {list(classes)}")
    files, labels = [], []
    for label, cls in enumerate(classes):
        folder = part / cls
        names = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        files += names
        labels += [label] * len(names)
    return files, np.asarray(labels, dtype=np.int64)


def read_images(files: list[Path]) -> np.ndarray:
    """Decode images to ``(N, C, H, W)`` uint8: C = 1 if all are grayscale, else 3 (RGB)."""
    from PIL import Image
    from tqdm.auto import tqdm

    if not files:
        raise ValueError("no images to read")
    try:
        with Image.open(files[0]) as first:
            width, height = first.size
    except OSError as err:
        raise ValueError(f"{files[0]} is not a readable image: {err}") from None
    out = np.empty((len(files), height, width, 3), dtype=np.uint8)
    gray = True
    for i, path in enumerate(tqdm(files, desc="images", unit="img", disable=len(files) < 10_000)):
        try:
            with Image.open(path) as im:
                if im.size != (width, height):
                    raise ValueError(
                        f"{path} is {im.size[0]}x{im.size[1]}, but {files[0]} is {width}x{height}: "
                        "all images of a folder dataset must share one size"
                    )
                gray = gray and im.mode in ("1", "L")
                out[i] = np.asarray(im.convert("RGB"))
        except OSError as err:
            raise ValueError(f"{path} is not a readable image: {err}") from err
    return (out[..., :1] if gray else out).transpose(0, 3, 1, 2)


def load_image_folder(
    root: Path, *, train_parts: tuple[str, ...] = ("train",), test_parts: tuple[str, ...] = ("test",),
    name: str = "", expected_sizes: Mapping[str, int] | None = None,
) -> Splits:
    """Raw (uint8) splits of an image tree; the train (test) split concatenates ``train_parts`` (``test_parts``).

    The class names are the first training part's folder names, sorted. ``meta["parts"]`` records each part's
    range of original indices. ``expected_sizes`` (part -> number of images) is checked before any decoding.
    """
    classes = class_names(root / train_parts[0])
    listed = {p: list_images(root / p, classes) for p in (*train_parts, *test_parts)}
    for part, expected in (expected_sizes or {}).items():
        if len(listed[part][0]) != expected:
            raise ValueError(f"{root / part} holds {len(listed[part][0])} images, expected {expected}: incomplete")
    splits = []
    for parts in (train_parts, test_parts):
        files = [f for p in parts for f in listed[p][0]]
        if not files:
            raise ValueError(f"no {'/'.join(IMAGE_SUFFIXES)} images under {', '.join(str(root / p) for p in parts)}")
        bounds = np.cumsum([0] + [len(listed[p][0]) for p in parts]).tolist()
        meta = {"source": str(root), "parts": {p: bounds[i:i + 2] for i, p in enumerate(parts)}}
        y = np.concatenate([listed[p][1] for p in parts])
        splits.append(make_split(read_images(files), y, name=name or root.name, num_classes=len(classes),
                                 classes=classes, meta=meta))
    return Splits(*splits)


def load_cinic10(data_dir: Path, *, download: bool = False) -> Splits:
    """Raw CINIC-10 splits: train + valid merged into train (180,000), test (90,000).

    ``data_dir`` holds ``train/ valid/ test/`` (directly or under ``CINIC-10/``), or the official archive.
    """
    root = locate_tree("cinic10", data_dir, "valid", "CINIC-10", download=download)
    return load_image_folder(root, train_parts=("train", "valid"), test_parts=("test",), name="cinic10",
                             expected_sizes=CINIC10_SIZES)
