"""A recording of training dynamics as plain arrays, saved as one ``.npz`` file read without pickle.

Arrays: ``true_prob``, ``margin``, ``loss`` float16 ``(E, N)`` (NaN = not presented in that epoch), ``correct_bits``
uint8 ``(E, ceil(N/8))`` (the correctness bitset, bit ``i % 8`` of byte ``i // 8``), ``labels`` int64 ``(N,)``
(-1 = never presented), optional ``probabilities`` float16 ``(E, N, K)``, and ``metadata``: a JSON string (a 0-d
unicode array) with the format, the number of classes, the label fingerprint, the library version, the creation
time and the caller's provenance (dataset, model, seed, training configuration, ...). Positions are the dataset's
position order (= original order). Files are written to a temporary file and renamed, so a reader never sees half
a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import datadiet
from datadiet.data.dataset import fingerprint
from datadiet.files import read_record, write_record

__all__ = ["FORMAT", "DynamicsRecording"]

FORMAT = "datadiet-dynamics"
_VALUES = ("true_prob", "margin", "loss")
_ARRAYS = (*_VALUES, "correct_bits", "labels", "probabilities")
_META = ("num_classes", "provenance", "version", "created")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True, eq=False)
class DynamicsRecording:
    """Per-example, per-epoch training dynamics of one run over N examples and E epochs.

    Attributes:
        true_prob: ``p_y``, float16 ``(E, N)``; NaN where the example was not presented in that epoch.
        margin: logit margin ``z_y - max_{k != y} z_k``, float16 ``(E, N)``.
        loss: cross-entropy ``-log p_y``, float16 ``(E, N)``.
        correct: ``argmax_k z_k == y``, bool ``(E, N)`` (False where not presented).
        labels: labels the run was fed, int64 ``(N,)`` (-1 = never presented).
        num_classes: K.
        probabilities: softmax vectors, float16 ``(E, N, K)``, or None when they were not kept.
        provenance: JSON-compatible description of the run (dataset, model, seed, training configuration...);
            set it with ``dataclasses.replace(recording, provenance={...})`` before saving.
    """

    true_prob: np.ndarray
    margin: np.ndarray
    loss: np.ndarray
    correct: np.ndarray
    labels: np.ndarray
    num_classes: int
    probabilities: np.ndarray | None = None
    provenance: dict = field(default_factory=dict)
    version: str = datadiet.__version__
    created: str = field(default_factory=_now)

    def __post_init__(self) -> None:
        for name in _VALUES:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float16))
        object.__setattr__(self, "correct", np.asarray(self.correct, dtype=bool))
        object.__setattr__(self, "labels", np.asarray(self.labels, dtype=np.int64))
        if self.probabilities is not None:
            object.__setattr__(self, "probabilities", np.asarray(self.probabilities, dtype=np.float16))
        object.__setattr__(self, "num_classes", int(self.num_classes))
        _validate(self)

    @property
    def num_epochs(self) -> int:
        return self.loss.shape[0]

    @property
    def num_examples(self) -> int:
        return self.loss.shape[1]

    @property
    def presented(self) -> np.ndarray:
        """Whether each example was presented in each epoch, bool ``(E, N)``."""
        return ~np.isnan(self.true_prob)

    def label_fingerprint(self) -> str:
        """Fingerprint of positions and labels, as a score file's for a dataset with indices ``0..N-1``."""
        return fingerprint(np.stack([np.arange(self.num_examples, dtype=np.int64), self.labels]))

    def metadata(self) -> dict[str, Any]:
        """Everything but the arrays, JSON-compatible."""
        return {"format": FORMAT, "num_classes": self.num_classes, "provenance": self.provenance,
                "version": self.version, "created": self.created, "num_epochs": self.num_epochs,
                "num_examples": self.num_examples, "label_fingerprint": self.label_fingerprint()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the recording atomically to ``path`` (must end in ``.npz``); returns the path."""
        arrays = {name: getattr(self, name) for name in (*_VALUES, "labels")}
        arrays["correct_bits"] = np.packbits(self.correct, axis=1, bitorder="little")
        if self.probabilities is not None:
            arrays["probabilities"] = self.probabilities
        return write_record(path, arrays, self.metadata(), "recordings")

    @classmethod
    def load(cls, path: str | os.PathLike) -> DynamicsRecording:
        """Read and validate a recording (no pickle); raises ``ValueError`` naming the file on any inconsistency."""
        path = Path(path)
        arrays, meta = _read(path)
        try:
            n = arrays["labels"].shape[0]
            correct = np.unpackbits(arrays.pop("correct_bits"), axis=1, count=n, bitorder="little").astype(bool)
            entries: dict[str, Any] = arrays  # checked against the fields by the constructor
            recording = cls(**entries, correct=correct, **{k: meta[k] for k in _META})
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None
        if (meta["num_epochs"], meta["num_examples"]) != (recording.num_epochs, recording.num_examples):
            raise ValueError(f"{path}: the metadata counts {meta['num_epochs']} epochs of {meta['num_examples']} "
                             f"examples, the arrays {recording.num_epochs} of {recording.num_examples}")
        if meta["label_fingerprint"] != recording.label_fingerprint():
            raise ValueError(f"{path}: the label fingerprint does not match the stored labels")
        return recording


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata of a recording file, checked for unknown and missing entries."""
    arrays, meta = read_record(path, "recording", FORMAT)
    known = {*_META, "num_epochs", "num_examples", "label_fingerprint"}
    unknown, missing = sorted(set(meta) - known), sorted(known - set(meta))
    if unknown or missing:
        raise ValueError(f"{path}: unknown metadata keys {unknown}, missing {missing}")
    extra = sorted(set(arrays) - set(_ARRAYS))
    if extra:
        raise ValueError(f"{path}: unknown arrays {extra}")
    return arrays, meta


def _validate(r: DynamicsRecording) -> None:
    if r.loss.ndim != 2:
        raise ValueError(f"loss must have shape (E, N), got {r.loss.shape}")
    shape = r.loss.shape
    for name in ("true_prob", "margin", "correct"):
        if getattr(r, name).shape != shape:
            raise ValueError(f"{name} must have shape {shape} like loss, got {getattr(r, name).shape}")
    if r.labels.shape != (shape[1],):
        raise ValueError(f"labels must have shape ({shape[1]},), got {r.labels.shape}")
    if r.probabilities is not None and r.probabilities.shape != (*shape, r.num_classes):
        raise ValueError(f"probabilities must have shape {(*shape, r.num_classes)}, got {r.probabilities.shape}")
    if len(r.labels) and (r.labels.min() < -1 or r.labels.max() >= max(r.num_classes, 1)):
        raise ValueError(f"labels must be -1 (never presented) or in [0, {r.num_classes}), got "
                         f"{r.labels.min()}..{r.labels.max()}")
    if not isinstance(r.provenance, dict):
        raise ValueError(f"provenance must be a dict, got {type(r.provenance).__name__}")
