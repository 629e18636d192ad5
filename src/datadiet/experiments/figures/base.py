"""What every figure type shares: its settings' interface, what it renders, and what it reads.

A figure type is a frozen dataclass of settings (a recipe's ``[figures.NAME]`` table, ``type`` naming the class)
with :meth:`FigureType.render`, which writes PNG files and returns them with the tables of numbers behind them.
Figures that show static scores name static methods of the recipe (``scores = ["el2n", ...]``); the scores are
computed on the recipe's ``[base]`` configuration by the sweep, cached like every score set, and read back
through :class:`FigureInputs`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from datadiet.data.dataset import IndexedDataset
from datadiet.experiments.config import DataConfig, RunConfig
from datadiet.experiments.scoring import ScoreCache, ScoreNeed
from datadiet.experiments.layout import CACHE_DIR, RUNS_DIR
from datadiet.scores import ScoreFile

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method
    from datadiet.experiments.results import ExperimentResults

__all__ = ["FigureInputs", "FigureSpec", "FigureType", "Rendered", "Table", "check_shown_methods"]


def check_shown_methods(where: str, shown: tuple[str, ...], runs: tuple[RunConfig, ...], kinds: tuple[str, ...],
                        what: str) -> None:
    """Raise ``ValueError`` unless some run has a method of ``kinds`` and every ``shown`` label is one of them."""
    used = sorted({r.method.label for r in runs if r.method.kind in kinds})
    if not used:
        raise ValueError(f"{where}: the experiment has no {what} run to show")
    unknown = [m for m in shown if m not in used]
    if unknown:
        raise ValueError(f"{where}.methods: {unknown[0]!r} is no {what} method of the runs; valid: {', '.join(used)}")


@dataclass(frozen=True)
class Table:
    """Numbers behind a figure: a ``title``, column ``headers`` and rows of text cells, with an optional note."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Rendered:
    """What a figure produced: PNG ``images``, ``tables``, and ``notes`` (why something is missing)."""

    images: list[Path] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class FigureType:
    """Base of the figure settings classes; ``scores`` (labels of static methods) default to none."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # every figure type is a dataclass
    type: ClassVar[str] = ""
    needs_data: ClassVar[bool] = False
    """True if rendering reads the training data itself (galleries of images)."""

    def score_labels(self) -> tuple[str, ...]:
        return tuple(getattr(self, "scores", ()))

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """Raise ``ValueError`` if the settings do not fit the experiment's runs and methods."""

    def check_data(self, where: str, data: DataConfig) -> None:
        """Raise ``ValueError`` if the figure cannot show scores computed on ``data`` (the [base] data)."""

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        raise NotImplementedError


@dataclass(frozen=True)
class FigureSpec:
    """A figure of an experiment: its ``name``, ``settings``, the score sets it shows and the data it reads."""

    name: str
    settings: FigureType
    scores: dict[str, ScoreNeed] = field(default_factory=dict)
    data: DataConfig | None = None

    def to_dict(self) -> dict:
        """The figure as plain JSON values (how ``experiment.json`` records it for plotting and reports)."""
        data = None if self.data is None else self.data.to_dict()
        return {"name": self.name, "type": self.settings.type, "settings": dataclasses.asdict(self.settings),
                "scores": {label: {"key": n.key, "what": n.label} for label, n in self.scores.items()},
                "data": data}


class FigureInputs:
    """What a figure reads from an experiment folder: runs, cached scores, run folders and the training data."""

    def __init__(self, results: ExperimentResults, entry: dict, stem: str) -> None:
        self.results, self.entry, self.stem = results, entry, stem
        self.cache = ScoreCache(results.folder / CACHE_DIR)

    def path(self, folder: Path, suffix: str = "") -> Path:
        """Where to write one of the figure's images: ``folder/<stem>[-suffix].png``."""
        return folder / f"{self.stem}{'-' + suffix if suffix else ''}.png"

    def what(self, label: str) -> str:
        """A description of the score set ``label`` (score, time point, seeds)."""
        return self.entry["scores"][label]["what"]

    def scores(self, label: str) -> ScoreFile:
        """The cached score set of the static method ``label``; ``FileNotFoundError`` until the sweep made it."""
        key = self.entry["scores"][label]["key"]
        if not self.cache.has(key):
            raise FileNotFoundError(f"scores {label!r} ({self.what(label)}) are not computed yet: run the sweep")
        return self.cache.load(key)[0]

    def run_dir(self, run_id: str) -> Path:
        return self.results.folder / RUNS_DIR / run_id

    def train_data(self) -> IndexedDataset:
        """The training split the figure's scores were computed on (loaded from the recorded data folder)."""
        return DataConfig.from_dict(self.entry["data"]).load().train
