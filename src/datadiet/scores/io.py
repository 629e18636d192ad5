"""Score files: every run's raw scores and a record of how they were made, in one ``.npz`` read without pickle.

Arrays: ``runs`` (R, N) float64, ``mean`` (N,) float64, ``indices`` (N,) int64 (original indices, increasing),
``labels`` (N,) int64 (the training labels, possibly noisy), optional ``noise_mask`` (N,) bool and ``clean_labels``
(N,) int64 (when labels were corrupted), and ``metadata``: a JSON string (a 0-d unicode array) with the method, time,
mode, seeds, model, dataset, fingerprints, training configuration, library version and creation time. Scores are
in the dataset's position order (= original order), never sorted. Files are written to a temporary file and
renamed, so a reader never sees half a file.

A score file of a recorded score can also be made again, without training, from the runs' saved recordings
(:meth:`ScoreFile.from_recordings`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

import datadiet
from datadiet.data.dataset import IndexedDataset, fingerprint
from datadiet.scores.recording_file import DynamicsRecording
from datadiet.scores.registry import SCORES, get_score
from datadiet.scores.runs import RECORDING_PROVENANCE, TIME_UNITS, ScoreRuns, recorded_scores, time_label
from datadiet.files import read_record, write_record

__all__ = ["FORMAT", "ScoreFile"]

FORMAT = "datadiet-scores"
_PER_EXAMPLE = {"indices": np.int64, "labels": np.int64, "noise_mask": bool, "clean_labels": np.int64}
_ARRAYS = ("runs", *_PER_EXAMPLE)
_META_TYPES: dict[str, type | tuple[type, ...]] = {
    "method": str, "seeds": list, "time_unit": str, "time_value": int, "dataset": str, "label_fingerprint": str,
    "input_fingerprint": (str, type(None)), "model": str, "model_kwargs": dict, "train_config": (dict, type(None)),
    "mode": str, "version": str, "created": str,
}
"""The JSON type of each metadata entry."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True, eq=False)
class ScoreFile:
    """Raw scores of R runs over N examples with their provenance; ``mean`` is the average over runs.

    ``time_unit`` is ``"init"``, ``"epoch"`` or ``"step"`` with ``time_value`` the epoch or step (0 at init);
    ``mode`` is the network mode the scores saw: ``"eval"``, ``"train"`` for forgetting (counted on training steps),
    or GraNd's with ``batchnorm="batch"`` (BatchNorm on the statistics of each scoring batch, its size stated).
    Construction validates everything (shapes, seeds, fingerprint, NaN, +inf only for forgetting).
    """

    method: str
    runs: np.ndarray
    seeds: tuple[int, ...]
    time_unit: str
    time_value: int
    dataset: str
    indices: np.ndarray
    labels: np.ndarray
    label_fingerprint: str
    input_fingerprint: str | None = None
    noise_mask: np.ndarray | None = None
    clean_labels: np.ndarray | None = None
    model: str = ""
    model_kwargs: dict = field(default_factory=dict)
    train_config: dict | None = None
    mode: str = "eval"
    version: str = datadiet.__version__
    created: str = field(default_factory=_now)

    def __post_init__(self) -> None:
        runs = np.asarray(self.runs, dtype=np.float64)
        if runs.ndim != 2 or runs.shape[0] < 1:
            raise ValueError(f"runs must have shape (R, N) with R >= 1, got {runs.shape}")
        object.__setattr__(self, "runs", runs)
        for name, dtype in _PER_EXAMPLE.items():
            if getattr(self, name) is not None:
                object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        _validate(self)

    @property
    def mean(self) -> np.ndarray:
        """Average over runs, ``(N,)`` (``+inf`` where a forgetting run never learned the example)."""
        return self.runs.mean(0)

    @property
    def num_examples(self) -> int:
        return self.runs.shape[1]

    @property
    def time(self) -> str:
        return time_label(self.time_unit, self.time_value)

    @classmethod
    def from_runs(
        cls, runs: ScoreRuns, data: IndexedDataset, *, model: str = "", model_kwargs: dict | None = None
    ) -> ScoreFile:
        """A score file for ``runs`` computed on ``data`` with the network ``model`` (name and keyword arguments)."""
        return cls(
            method=runs.method, runs=runs.runs, seeds=runs.seeds, time_unit=runs.time_unit,
            time_value=runs.time_value, dataset=data.name, indices=data.index.cpu().numpy(),
            labels=data.y.cpu().numpy(), label_fingerprint=data.label_fingerprint(),
            input_fingerprint=data.input_fingerprint(), noise_mask=_numpy(data.noise_mask),
            clean_labels=_numpy(data.clean_y), model=model,
            model_kwargs=dict(model_kwargs or {}), train_config=runs.train_config,
            mode=runs.mode if runs.mode is not None else SCORES[runs.method].mode_of({}),
        )

    @classmethod
    def from_recordings(
        cls, method: str, recordings: Sequence[DynamicsRecording | str | os.PathLike], data: IndexedDataset,
        **options: Any,
    ) -> ScoreFile:
        """The score file of the recorded score ``method`` derived from the runs' recordings, without training.

        ``recordings`` are those :func:`~datadiet.scores.score_runs` saved with ``recordings_dir`` (paths, read one
        at a time, or loaded recordings), in any order; ``options`` are the score's (e.g. ``window``). The result
        equals scoring with ``score_runs`` directly (runs ordered by seed, time, training configuration, model,
        dataset checks), but for the creation time. Raises ``ValueError`` naming the recording that was made on
        another dataset (name, size, labels or inputs) or in another setting than the first, that repeats a seed,
        or that lacks the probability vectors ``method`` needs; ``FileNotFoundError`` for a missing file.
        """
        recorded = recorded_scores()
        if get_score(method).name not in recorded:
            raise ValueError(f"{method} is not derived from a training-dynamics recording; recorded scores: "
                             f"{', '.join(recorded)}")
        SCORES[method].check_options(options)
        if not recordings:
            raise ValueError(f"no recordings to derive {method} from")
        derived = sorted(_derive_all(method, recordings, data, options, recorded[method]),
                         key=lambda pair: pair[0]["seed"])
        first = derived[0][0]
        runs = ScoreRuns(method, np.stack([row for _, row in derived]), tuple(p["seed"] for p, _ in derived),
                         first["time_unit"], first["time_value"], first["train_config"])
        return cls.from_runs(runs, data, model=first["model"], model_kwargs=first["model_kwargs"])

    def metadata(self) -> dict[str, Any]:
        """Everything but the arrays, JSON-compatible (also what selection records as the scores' description)."""
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _ARRAYS}
        meta.update(format=FORMAT, time=self.time, num_runs=len(self.runs), num_examples=self.num_examples)
        meta["seeds"] = list(self.seeds)
        return meta

    def save(self, path: str | os.PathLike) -> Path:
        """Write the file atomically to ``path`` (must end in ``.npz``); returns the path."""
        arrays = {name: getattr(self, name) for name in _ARRAYS if getattr(self, name) is not None}
        return write_record(path, {**arrays, "mean": self.mean}, self.metadata(), "score files")

    @classmethod
    def load(cls, path: str | os.PathLike) -> ScoreFile:
        """Read and validate a score file (no pickle); raises ``ValueError`` naming the file on any inconsistency."""
        path = Path(path)
        arrays, meta = _read(path)
        mean = arrays.pop("mean", None)
        entries: dict[str, Any] = arrays  # checked against the fields by the constructor
        try:
            scores = cls(**meta, **entries)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None
        if mean is None or mean.shape != scores.mean.shape or not np.array_equal(mean, scores.mean):
            raise ValueError(f"{path}: the stored mean is missing or is not the mean of the stored runs")
        return scores

    def check_against(self, dataset: IndexedDataset) -> None:
        """Raise ``ValueError`` saying what differs if these scores were not computed on ``dataset``."""
        where = f"scores of {self.dataset!r} (N={self.num_examples}) vs dataset {dataset.name!r} (N={len(dataset)})"
        if self.num_examples != len(dataset):
            raise ValueError(f"{where}: the number of examples differs")
        if not np.array_equal(self.indices, dataset.index.cpu().numpy()):
            raise ValueError(f"{where}: the original indices differ (another split or subset?)")
        if self.label_fingerprint != dataset.label_fingerprint():
            raise ValueError(f"{where}: the labels differ (label fingerprint {self.label_fingerprint} vs "
                             f"{dataset.label_fingerprint()}; another noise rate or noise seed?)")


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata (without derived keys) of a score file, checked for unknown entries."""
    arrays, meta = read_record(path, "score file", FORMAT)
    for derived in ("time", "num_runs", "num_examples"):
        meta.pop(derived, None)
    unknown = sorted(set(meta) - {f.name for f in fields(ScoreFile)})
    if unknown:
        raise ValueError(f"{path}: unknown metadata keys {unknown}")
    wrong = [f"{key} ({type(meta[key]).__name__})" for key, kind in _META_TYPES.items()
             if key in meta and (not isinstance(meta[key], kind) or isinstance(meta[key], bool))]
    if wrong:
        raise ValueError(f"{path}: metadata of the wrong type: {', '.join(wrong)}")
    extra = sorted(set(arrays) - {"mean", *_ARRAYS})
    if extra:
        raise ValueError(f"{path}: unknown arrays {extra}")
    return arrays, meta


def _derive_all(method: str, recordings: Sequence[DynamicsRecording | str | os.PathLike], data: IndexedDataset,
                options: dict[str, Any], needs_probabilities: bool) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Each recording's provenance and scores, loading one recording at a time; each is checked first."""
    dataset = {"dataset": data.name, "num_examples": len(data), "label_fingerprint": data.label_fingerprint(),
               "input_fingerprint": data.input_fingerprint()}
    derived: list[tuple[dict[str, Any], np.ndarray]] = []
    first: tuple[str, dict[str, Any]] | None = None
    for i, item in enumerate(recordings):
        name = f"recordings[{i}]" if isinstance(item, DynamicsRecording) else str(item)
        recording = item if isinstance(item, DynamicsRecording) else DynamicsRecording.load(item)
        _check_recording(name, recording, dataset)
        first = first or (name, recording.provenance)
        _check_same_setting(name, recording.provenance, *first)
        if any(p["seed"] == recording.provenance["seed"] for p, _ in derived):
            raise ValueError(f"{name}: a second recording of seed {recording.provenance['seed']}")
        if needs_probabilities and recording.probabilities is None:
            raise ValueError(f"{name}: {method} needs the probability vectors and this recording has none (record "
                             "with keep_probabilities=True, datadiet score --keep-probabilities)")
        try:
            derived.append((recording.provenance, SCORES[method].scores(recording, **options)))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return derived


def _check_recording(name: str, recording: DynamicsRecording, dataset: dict[str, Any]) -> None:
    """Refuse a recording without provenance or made on another dataset than ``dataset`` (name, N, fingerprints)."""
    p = recording.provenance
    missing = [key for key in RECORDING_PROVENANCE if key not in p]
    if missing:
        raise ValueError(f"{name}: the recording's provenance lacks {', '.join(missing)} (recordings to derive "
                         "scores from are saved by score_runs(..., recordings_dir=...))")
    made = f"{name} was recorded on {p['dataset']!r}"
    if (p["dataset"], recording.num_examples) != (dataset["dataset"], dataset["num_examples"]):
        raise ValueError(f"{made} (N={recording.num_examples}), not on {dataset['dataset']!r} "
                         f"(N={dataset['num_examples']})")
    for what in ("label", "input"):
        key = f"{what}_fingerprint"
        if p[key] != dataset[key]:
            raise ValueError(f"{made} with other {what}s than the dataset's ({what} fingerprint {p[key]} vs "
                             f"{dataset[key]}{'; another noise rate or noise seed?' * (what == 'label')})")


def _check_same_setting(name: str, provenance: dict[str, Any], first_name: str, first: dict[str, Any]) -> None:
    """Refuse a recording whose run differs from the first one's by more than its seed."""
    def setting(p: dict[str, Any]) -> dict[str, Any]:
        config = None if p["train_config"] is None else {**p["train_config"], "seed": None}
        return {**p, "seed": None, "train_config": config}

    this, that = setting(provenance), setting(first)
    differ = [key for key in RECORDING_PROVENANCE if this[key] != that[key]]
    if differ:
        raise ValueError(f"{name}: its run differs from {first_name}'s by more than the seed ({', '.join(differ)}); "
                         "derive from the recordings of one setting")


def _numpy(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.cpu().numpy()


def _validate(s: ScoreFile) -> None:
    r, n = s.runs.shape
    if len(s.seeds) != r:
        raise ValueError(f"{r} runs need {r} seeds, got {len(s.seeds)}")
    for name in _PER_EXAMPLE:
        value = getattr(s, name)
        if value is not None and value.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},) like the scores, got {value.shape}")
    if n > 1 and not (np.diff(s.indices) > 0).all():
        raise ValueError("indices must be strictly increasing original indices (scores in original order)")
    if fingerprint(np.stack([s.indices, s.labels])) != s.label_fingerprint:
        raise ValueError("the label fingerprint does not match the stored indices and labels")
    if s.time_unit not in TIME_UNITS or s.time_value < 0 or (s.time_unit == "init") != (s.time_value == 0):
        raise ValueError(f"time must be init (0) or a positive epoch or step, got {s.time_unit} {s.time_value}")
    if np.isnan(s.mean).any():
        raise ValueError(f"{int(np.isnan(s.mean).sum())} mean scores are NaN")
    method = SCORES.get(s.method)
    if np.isinf(s.runs).any() and (method is None or method.kind != "training"):
        raise ValueError(f"{s.method} scores must be finite (only counted-during-training scores may be +inf)")
    if np.isneginf(s.runs).any():
        raise ValueError("scores must not be -inf")
