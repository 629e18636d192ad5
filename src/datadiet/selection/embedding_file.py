"""Embedding files: an ``(N, D)`` array in a plain ``.npy`` plus an optional ``.npy.json`` description.

``datadiet embed`` writes both: ``FILE.npy`` (float32, one row per example in the dataset's order; ``np.load``
just works) and ``FILE.npy.json`` (how it was made: dataset name, size and label fingerprint, model, layer,
training time, seed, library version, and a fingerprint of the array that detects a stale description). Any
``.npy`` of shape ``(N, D)`` loads too, without the checks a description allows. Files are read without pickle
and written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import datadiet
from datadiet.data.dataset import fingerprint
from datadiet.files import atomic_write, atomic_write_npy, check_input_file, read_npy, read_sidecar, sidecar_path

from .geometry import check_embeddings

__all__ = ["save_embeddings", "load_embeddings", "FORMAT"]

FORMAT = "datadiet-embeddings"


def save_embeddings(path: str | os.PathLike, embeddings: np.ndarray, provenance: Mapping[str, Any]) -> None:
    """Write ``embeddings`` ``(N, D)`` to ``path`` (``.npy``) and ``provenance`` (JSON-compatible) beside it."""
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"embedding files are NumPy .npy files; got {path.name!r} (use a name ending in .npy)")
    e = check_embeddings(embeddings)
    record = {**provenance, "format": FORMAT, "shape": list(e.shape), "fingerprint": fingerprint(e),
              "version": datadiet.__version__}
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(sidecar_path(path), lambda tmp: Path(tmp).write_text(text))
    atomic_write_npy(path, e)


def load_embeddings(path: str | os.PathLike, *, num_examples: int | None = None,
                    label_fingerprint: str | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """``(embeddings (N, D), provenance)`` of an embedding file, read without pickle.

    With ``num_examples``, the rows must number N; with ``label_fingerprint``, a description (if any) must name
    the same labels. ``ValueError`` otherwise, naming the file.
    """
    path = check_input_file(path, "embedding file")
    array = read_npy(path, "embedding file")
    try:
        e = check_embeddings(array, num_examples)
    except ValueError as error:
        raise ValueError(f"embedding file {path}: {error}") from None
    provenance = read_sidecar(path, FORMAT, "embedding")
    if provenance.get("fingerprint") not in (None, fingerprint(e)):
        raise ValueError(f"{sidecar_path(path)} describes another array than {path} (a stale description?)")
    expected = provenance.get("label_fingerprint")
    if label_fingerprint is not None and expected is not None and expected != label_fingerprint:
        raise ValueError(f"embedding file {path} was computed on {provenance.get('dataset')!r} with other labels "
                         f"(label fingerprint {expected}, the scores' {label_fingerprint}): another split, noise "
                         "rate or noise seed?")
    return e, provenance


