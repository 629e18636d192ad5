"""Static scores of an experiment, computed once and cached under ``cache/scores/``.

A set of scores is determined by the data (dataset and its variants), the model, the score method, the time
point, the number of runs, their seeds and the training schedule of the scoring runs; its **key** hashes these
(only what matters: scores at initialization ignore the schedule, ``input_norm`` needs no model). Every run
with the same key reads the same file, however many fractions and seeds use it.

A set of R runs is computed as R **parts** of one run each (seeds ``seed0 .. seed0 + R - 1``; part r gives
exactly run r of :func:`~datadiet.scores.score_runs`), cached under ``cache/scores/runs/``: parts run in
parallel on a pool or a cluster, a killed sweep loses at most the parts in progress, and sets sharing seeds
share parts. The set is assembled from its parts once all exist.

**Scoring cost.** The cost of a set is the sum of its parts' wall-clock (each part: training to the time point,
then the scoring pass), as if its runs had run one after another on one device. It is stored beside the scores
and charged **in full to every run that uses them**, as paper 2 counts it: a static method pays for its scoring
and its training, whichever other runs share the scores.

**Embeddings.** A set for a selection rule that needs embeddings (``embed``) also keeps the penultimate features
(the input of the last ``nn.Linear``, :func:`datadiet.selection.embed`) of its **first** run's network (seed
``seed0``), taken right after that run's scores, so with the same network at the same time point. That run is a
part of its own (its key differs from the plain run's); the other runs are the plain parts, shared with the sets
without embeddings. The embedding pass is part of the set's cost (seconds and samples).

Files: ``<key>.npz`` (a :class:`~datadiet.scores.ScoreFile`), ``<key>.embeddings.npy`` (float32 ``(N, D)``, sets
with embeddings only) and ``<key>.json`` (the need, the cost, the time), each written atomically; the JSON is
written last, so a set counts as cached only once all are complete.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import datadiet
from datadiet.experiments.config import DataConfig, ModelConfig, RunConfig
from datadiet.experiments.layout import SCORE_PARTS_DIR
from datadiet.experiments.values import config_hash
from datadiet.scores import ScoreFile, get_score, score_runs
from datadiet.selection.features import embed
from datadiet.training import TrainConfig, trainer_fn
from datadiet.files import atomic_write_npy, read_npy, write_json

if TYPE_CHECKING:
    from datadiet.experiments.kinds import StaticParams

__all__ = ["EMBEDDINGS", "ScoreCache", "ScoreNeed", "assemble", "compute_part", "ensure_scores", "need_of",
           "score_need"]

EMBEDDINGS = ".embeddings.npy"
"""Suffix of a set's embeddings file after its key."""


@dataclass(frozen=True)
class ScoreNeed:
    """A set of scores: ``runs`` runs of ``score`` at epoch ``at`` (0 = init) of ``schedule``, seeds from ``seed0``;
    ``options`` go to the score (``window``), ``embed`` keeps the first run's embeddings too."""

    score: str
    at: int
    runs: int
    seed0: int
    data: DataConfig
    model: ModelConfig
    schedule: TrainConfig
    options: tuple[tuple[str, Any], ...] = ()
    embed: bool = False

    def identity(self) -> dict:
        kind = get_score(self.score).kind
        identity: dict[str, Any] = {"score": self.score, "data": self.data.identity()}
        if kind != "data":
            identity.update(at=self.at, runs=self.runs, seed0=self.seed0, model=self.model.identity())
        if kind != "data" and self.at > 0:
            identity["schedule"] = {k: v for k, v in self.schedule.to_dict().items() if k not in ("seed", "progress")}
        if self.options:
            identity["options"] = dict(self.options)
        if self.embed:
            identity["embed"] = True
        return identity

    @property
    def key(self) -> str:
        return config_hash(self.identity())

    @property
    def label(self) -> str:
        when = "init" if self.at == 0 else f"epoch {self.at}"
        seeds = f"seed {self.seed0}" if self.runs == 1 else f"seeds {self.seed0}-{self.seed0 + self.runs - 1}"
        options = "".join(f", {k} {v}" for k, v in self.options)
        embeddings = f", embeddings of seed {self.seed0}" if self.embed else ""
        return f"{self.score} at {when}, {seeds}{options}{embeddings}"

    def parts(self) -> list[ScoreNeed]:
        """The one-run sets this set is made of (the set itself for scores that need no network)."""
        if get_score(self.score).kind == "data":
            return [self]
        return [dataclasses.replace(self, runs=1, seed0=self.seed0 + r, embed=self.embed and r == 0)
                for r in range(self.runs)]


def score_need(run: RunConfig) -> ScoreNeed | None:
    """The scores a run needs (static selection, or a dynamic policy's start), or None for methods without."""
    params = run.method.params.static_scores()
    return None if params is None else need_of(params, run)


def need_of(params: StaticParams, run: RunConfig) -> ScoreNeed:
    """The scores ``params`` describe, computed on ``run``'s data with its schedule (by the proxy, if any)."""
    return ScoreNeed(params.score, params.time_point(run.epochs), params.runs, params.score_seed, run.data,
                     params.score_model(run.model), run.schedule(), tuple(sorted(params.score_options.items())),
                     params.uses_embeddings)


class ScoreCache:
    """Score sets by key in ``folder``; their one-run parts in ``folder / SCORE_PARTS_DIR`` (:attr:`parts`)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def parts(self) -> ScoreCache:
        return ScoreCache(self.folder / SCORE_PARTS_DIR)

    def has(self, key: str) -> bool:
        return (self.folder / f"{key}.json").is_file() and (self.folder / f"{key}.npz").is_file()

    def load(self, key: str) -> tuple[ScoreFile, dict]:
        """The scores and their record (``seconds``: the cost to compute them, ``samples``, ``need``)."""
        record = json.loads((self.folder / f"{key}.json").read_text())
        return ScoreFile.load(self.folder / f"{key}.npz"), record

    def embeddings(self, key: str, num_examples: int) -> np.ndarray:
        """The embeddings ``(N, D)`` of a set with ``embed``; ``ValueError`` if they are not ``num_examples`` rows."""
        array = read_npy(self.folder / f"{key}{EMBEDDINGS}", "embeddings")
        if array.ndim != 2 or len(array) != num_examples:
            raise ValueError(f"embeddings {key} have shape {array.shape}, not one row per example of {num_examples}")
        return array

    def save(self, need: ScoreNeed, scores: ScoreFile, seconds: float, embeddings: np.ndarray | None = None) -> None:
        """Store a set of scores with its cost (embeddings and scores first, record last)."""
        if embeddings is not None:
            atomic_write_npy(self.folder / f"{need.key}{EMBEDDINGS}", embeddings)
        scores.save(self.folder / f"{need.key}.npz")
        write_json(self.folder / f"{need.key}.json", {
            "key": need.key, "need": need.identity(), "label": need.label, "seconds": seconds,
            "samples": scoring_samples(need, scores.num_examples), "version": datadiet.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        })



def scoring_samples(need: ScoreNeed, num_examples: int) -> int:
    """Examples forwarded to compute a set of scores: the scoring runs' training steps plus the scoring passes
    (and the embedding pass of a set with embeddings).

    Forgetting is counted during training (no pass); ``input_norm`` forwards nothing.
    """
    kind = get_score(need.score).kind
    if kind == "data":
        return 0
    passes = need.at + (1 if kind == "model" else 0)
    return (need.runs * passes + int(need.embed)) * num_examples


def compute_part(part: ScoreNeed, cache: ScoreCache, device: torch.device | str | None = None) -> float:
    """Compute a one-run part into ``cache.parts``; returns its wall-clock seconds (data loading excluded)."""
    train = part.data.load().train
    start = time.perf_counter()
    train_fn = trainer_fn(train, part.schedule, device=device)
    networks: list[torch.nn.Module] = []  # the network each run builds, trained in place by score_runs

    def build(seed: int) -> torch.nn.Module:
        networks.append(part.model.build(train, seed))
        return networks[-1]

    runs = score_runs(part.score, train, build, train_fn, at=part.at, runs=part.runs, seed0=part.seed0,
                      device=train_fn.device, progress=False, **dict(part.options))
    embeddings = embed(networks[0], train, device=train_fn.device) if part.embed else None
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    model, kwargs = part.model.describe()
    scores = ScoreFile.from_runs(runs, train, model=model, model_kwargs=kwargs)
    cache.parts.save(part, scores, seconds, embeddings)
    return seconds


def assemble(need: ScoreNeed, cache: ScoreCache) -> None:
    """Stack the cached parts of ``need`` into its set, costing the sum of theirs."""
    parts = need.parts()
    loaded = [cache.parts.load(part.key) for part in parts]
    first = loaded[0][0]
    scores = dataclasses.replace(first, runs=np.concatenate([s.runs for s, _ in loaded]),
                                 seeds=tuple(seed for s, _ in loaded for seed in s.seeds))
    embeddings = cache.parts.embeddings(parts[0].key, first.num_examples) if need.embed else None
    cache.save(need, scores, sum(record["seconds"] for _, record in loaded), embeddings)


def ensure_scores(need: ScoreNeed, cache: ScoreCache, device: torch.device | str | None = None) -> None:
    """Compute the missing parts of ``need`` here, then assemble it."""
    for part in need.parts():
        if not cache.parts.has(part.key):
            compute_part(part, cache, device)
    assemble(need, cache)
