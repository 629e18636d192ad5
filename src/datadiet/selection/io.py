"""Subset files: the selected examples' original indices plus a record of how they were chosen.

A subset is saved as two files:

- ``subset.npy``: the **original indices** (``IndexedDataset.index`` values, not positions), int64, sorted,
  unique; a plain array, so ``np.load("subset.npy")`` just works;
- ``subset.npy.json``: provenance: the rule and its parameters, the score file's description when selected from
  scores, the dataset's name, size and label fingerprint, the seed, the library version and a fingerprint of
  the indices (which detects a sidecar left over from another subset).

A bare ``.npy`` (integer array) or ``.txt`` (whitespace-separated integers) index file without a sidecar loads
too and is validated the same way, except for the label fingerprint it cannot carry. Files are read without
pickle and written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

import datadiet
from datadiet.data.dataset import IndexedDataset, fingerprint
from datadiet.files import atomic_write, atomic_write_npy, check_input_file, read_npy, read_sidecar, sidecar_path

if TYPE_CHECKING:  # selection needs no scoring code: a score file is only read through its attributes
    from datadiet.scores.io import ScoreFile

__all__ = ["Subset", "subset_from_positions", "subset_from_scores", "save_subset", "load_subset"]

FORMAT = "datadiet-subset"


@dataclass(frozen=True, eq=False)
class Subset:
    """Selected examples of a dataset.

    Attributes:
        indices: original indices of the selected examples, int64, shape ``(k,)``, sorted and unique.
        provenance: JSON-compatible record of how they were selected (empty for a bare index file).
    """

    indices: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", _check_indices(self.indices))

    def __len__(self) -> int:
        return len(self.indices)

    def positions(self, dataset: IndexedDataset) -> np.ndarray:
        """Positions of the selected examples in ``dataset`` (sorted, int64).

        Raises ``ValueError`` if the subset was selected on data with other labels (label fingerprint) or names
        indices that are not examples of ``dataset``.
        """
        expected = self.provenance.get("label_fingerprint")
        if expected is not None and expected != dataset.label_fingerprint():
            raise ValueError(
                f"the subset was selected on {self.provenance.get('dataset')!r} "
                f"(N={self.provenance.get('num_examples')}, label fingerprint {expected}) but the dataset is "
                f"{dataset.name!r} (N={len(dataset)}, label fingerprint {dataset.label_fingerprint()}): "
                "examples or labels differ (another split, noise rate or noise seed?)"
            )
        original = dataset.index.cpu().numpy()
        outside = self.indices[~np.isin(self.indices, original)]
        if len(outside):
            raise ValueError(
                f"{len(outside)} of {len(self)} subset indices are not examples of {dataset.name!r} "
                f"(N={len(dataset)}, original indices {original[0]}..{original[-1]}), e.g. {outside[:5].tolist()}"
            )
        return np.searchsorted(original, self.indices).astype(np.int64)


def subset_from_positions(
    positions: ArrayLike,
    dataset: IndexedDataset,
    *,
    rule: str,
    params: Mapping[str, Any],
    scores: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Subset:
    """Build a :class:`Subset` from positions in ``dataset`` returned by a selection rule.

    Args:
        positions: selected positions in ``dataset``, shape ``(k,)``.
        dataset: the dataset the rule selected from.
        rule: rule name, e.g. ``"keep_highest"``.
        params: the rule's parameters (JSON-compatible), e.g. ``{"keep": 0.5, "class_balanced": False}``.
        scores: description of the scores when selected from a score file (``ScoreFile.metadata()``: method,
            time, runs, seeds, fingerprints, ...).
        seed: the rule's seed, None for deterministic rules.
    """
    original = dataset.index.cpu().numpy()
    return _subset(positions, original, rule=rule, params=params, scores=scores, seed=seed,
                   dataset=dataset.name, label_fingerprint=dataset.label_fingerprint())


def subset_from_scores(
    positions: ArrayLike, scores: ScoreFile, *, rule: str, params: Mapping[str, Any], seed: int | None = None
) -> Subset:
    """Like :func:`subset_from_positions`, for positions in the dataset a score file describes."""
    return _subset(positions, scores.indices, rule=rule, params=params, scores=scores.metadata(), seed=seed,
                   dataset=scores.dataset, label_fingerprint=scores.label_fingerprint)


def _subset(positions: ArrayLike, original: np.ndarray, *, rule: str, params: Mapping[str, Any],
            scores: Mapping[str, Any] | None, seed: int | None, dataset: str, label_fingerprint: str) -> Subset:
    pos = np.asarray(positions, dtype=np.int64)
    if pos.ndim != 1 or len(pos) == 0 or pos.min() < 0 or pos.max() >= len(original):
        raise ValueError(f"positions must be a non-empty 1-D array of positions in 0..{len(original) - 1}")
    indices = np.sort(original[pos])
    provenance = {
        "format": FORMAT,
        "rule": rule,
        "params": dict(params),
        "scores": None if scores is None else dict(scores),
        "seed": seed,
        "dataset": dataset,
        "num_examples": len(original),
        "num_selected": len(indices),
        "label_fingerprint": label_fingerprint,
        "indices_fingerprint": fingerprint(indices),
        "version": datadiet.__version__,
    }
    return Subset(indices, provenance)


def save_subset(subset: Subset, path: str | os.PathLike) -> None:
    """Write ``path`` (a ``.npy`` of original indices) and, if there is provenance, ``path + ".json"``.

    The sidecar is written first, so an interrupted save leaves a pair that :func:`load_subset` rejects.
    """
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"subset files are NumPy .npy files; got {path.name!r} (use a name ending in .npy)")
    if subset.provenance:
        text = json.dumps({**subset.provenance, "format": FORMAT}, indent=2, default=_json_default) + "\n"
        atomic_write(sidecar_path(path), lambda tmp: Path(tmp).write_text(text))
    else:
        sidecar_path(path).unlink(missing_ok=True)
    atomic_write_npy(path, subset.indices)


def load_subset(path: str | os.PathLike, dataset: IndexedDataset | None = None) -> Subset:
    """Read a subset file (``.npy`` with optional ``.npy.json`` sidecar, or ``.txt``) without pickle.

    With ``dataset``, also check that the subset belongs to it (see :meth:`Subset.positions`).
    """
    path = check_input_file(path, "subset file")
    subset = Subset(_read_indices(path), read_sidecar(path, FORMAT, "subset"))
    expected = subset.provenance.get("indices_fingerprint")
    if expected is not None and expected != fingerprint(subset.indices):
        raise ValueError(f"{sidecar_path(path)} describes another index array than {path} (a stale sidecar?)")
    if dataset is not None:
        subset.positions(dataset)
    return subset


def _check_indices(indices: ArrayLike) -> np.ndarray:
    a = np.asarray(indices)
    if a.dtype == bool:
        raise ValueError("subset indices must be integers, got a boolean mask (convert it with np.flatnonzero)")
    if a.ndim != 1 or len(a) == 0 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"subset indices must be a non-empty 1-D integer array, got {a.dtype} of shape {a.shape}")
    a = np.sort(a.astype(np.int64))
    repeated = a[1:] == a[:-1]
    if repeated.any():
        duplicated = np.unique(a[1:][repeated])
        raise ValueError(
            f"subset indices must be unique: {len(duplicated)} indices appear more than once "
            f"({int(repeated.sum())} surplus entries), e.g. {duplicated[:5].tolist()}"
        )
    if a[0] < 0:
        negative = a[a < 0]
        raise ValueError(f"subset indices must be non-negative, got {len(negative)}, e.g. {negative[:5].tolist()}")
    return a


def _read_indices(path: Path) -> np.ndarray:
    expected = "a .npy integer array saved without pickle, or a .txt of integers"
    if path.suffix != ".txt":
        return read_npy(path, "subset file")
    try:
        return np.loadtxt(path, dtype=np.int64, ndmin=1)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {path} as an index file ({expected}): {error}") from None





def _json_default(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise ValueError(f"subset provenance must be JSON-compatible, got {type(value).__name__}: {value!r}")
