"""What every method kind answers, and what a kind's run is given and gives back.

A kind is a frozen dataclass of its parameters (checked at construction) deriving from :class:`MethodParams`:
does it take a size ``keep``, is it valid for a given run, which cached static scores does it read, which other
runs must finish first, which other method of the recipe does it refer to, how is it written in a recipe
(:meth:`~MethodParams.from_table`), what does its run train on (:meth:`~MethodParams.plan`: a :class:`Plan`)
and what does it cost (:meth:`~MethodParams.estimated_epochs`). The analysis kinds (:class:`AnalysisParams`)
measure training dynamics instead: :meth:`~AnalysisParams.analyse` writes their numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from datadiet.data import Splits
from datadiet.dynamic import DynamicPruner
from datadiet.experiments.config import EPOCH_BUDGETS, RunConfig
from datadiet.experiments.layout import SUBSET_FILE
from datadiet.experiments.scoring import ScoreCache, ensure_scores, score_need
from datadiet.experiments.values import build
from datadiet.scores import ScoreFile
from datadiet.selection import save_subset, subset_from_positions

if TYPE_CHECKING:
    from datadiet.experiments.kinds.static import StaticParams
    from datadiet.experiments.methods import Method

__all__ = ["AnalysisParams", "MethodParams", "Plan", "PlanContext", "at_least", "epoch_budget", "positive",
           "run_scores", "save_positions"]


@dataclass(frozen=True)
class PlanContext:
    """Where a run keeps its files and finds cached scores, and the device it trains on."""

    run_dir: Path
    cache: ScoreCache
    device: torch.device | str | None = None

    def run_dir_of(self, run: RunConfig) -> Path:
        """The folder of another run of the same experiment (run folders are siblings)."""
        return self.run_dir.parent / run.run_id


@dataclass
class Plan:
    """How to train: ``subset`` positions (None = all), trainer ``callbacks``, and static scoring charged.

    ``scoring_seconds`` / ``scoring_samples``: the cost of the cached scores this run uses (see
    :mod:`datadiet.experiments.scoring`), with the seconds its static selection rule took; ``notes`` go into the
    run's metrics; ``pruner``: the dynamic pruner whose selection counts are kept when the run ends.
    """

    subset: np.ndarray | None = None
    callbacks: list = field(default_factory=list)
    scoring_seconds: float = 0.0
    scoring_samples: int = 0
    notes: dict = field(default_factory=dict)
    pruner: DynamicPruner | None = None


class MethodParams:
    """Defaults of every kind: takes ``keep``, valid for any run, no static scores, no other run, no reference."""

    analysis: ClassVar[bool] = False
    """True for the kinds whose run is an analysis of training dynamics (:class:`AnalysisParams`), not a
    training run with a test accuracy."""
    reference_kind: ClassVar[str | None] = None
    """The kind of method :meth:`reference` must name (None: the kind refers to no other method)."""

    @property
    def uses_keep(self) -> bool:
        """Whether the method's runs take ``keep`` (the fraction of examples kept)."""
        return True

    @property
    def is_reference(self) -> bool:
        """Whether the method's runs are the reference the others are measured against (full data on the run's
        schedule)."""
        return False

    def run_epochs(self, run: RunConfig) -> int:
        """The epochs of ``run``'s schedule (its ``epochs``; a full-data run may set its own)."""
        return run.epochs

    @classmethod
    def from_table(cls, table: dict, where: str) -> MethodParams:
        """The parameters from a recipe's ``[methods.LABEL]`` table (without ``kind``); unknown keys are errors."""
        return build(cls, table, where)

    def check(self, run: RunConfig) -> None:
        """Raise ``ValueError`` if the parameters do not fit ``run`` (its schedule, budget or size)."""

    def static_scores(self) -> StaticParams | None:
        """The cached static scores the method reads, or None."""
        return None

    def required_runs(self, run: RunConfig) -> tuple[RunConfig, ...]:
        """Runs that must have finished before ``run`` can start (their files are its input)."""
        return ()

    def reference(self) -> str | None:
        """The label of another method of the recipe these parameters refer to, or None."""
        return None

    def resolved(self, target: Method) -> MethodParams:
        """A copy with the referred method's parameters filled in (part of the run's identity)."""
        raise ValueError(f"{type(self).__name__} refers to no other method")

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """What ``run`` trains on and with which callbacks (its files go into ``context.run_dir``)."""
        raise NotImplementedError

    def estimated_epochs(self, run: RunConfig) -> float:
        """Estimated full-data epochs of training (and in-run scoring passes) of ``run``, cached scores apart
        (see :mod:`datadiet.experiments.estimate`): ``epochs`` under a step budget, else ``keep`` per epoch."""
        return float(run.epochs) if run.budget == "steps" else run.train_epochs * run.keep_fraction


class AnalysisParams(MethodParams):
    """An analysis kind: no size; its run measures training dynamics and writes a JSON of numbers."""

    analysis: ClassVar[bool] = True

    @property
    def uses_keep(self) -> bool:
        return False

    def analyse(self, run: RunConfig, splits: Splits, context: PlanContext) -> dict:
        """Perform the analysis, write its JSON into ``context.run_dir`` and return its metrics."""
        raise NotImplementedError

    def estimated_epochs(self, run: RunConfig) -> float:
        """Full-data epochs of training the run does itself, whatever its budget (cached scores apart)."""
        raise NotImplementedError


def epoch_budget(run: RunConfig, what: str) -> None:
    """Raise ``ValueError`` unless ``run`` trains a number of epochs (what a pruner's schedule needs)."""
    if run.budget not in EPOCH_BUDGETS:
        raise ValueError(f"{what} trains a number of epochs: set budget = \"epochs\" or \"samples\" "
                         f"(got {run.budget!r})")


def at_least(name: str, value: int, low: int) -> None:
    """Raise ``ValueError`` if the parameter ``name`` is below ``low``."""
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def positive(**values: int | None) -> None:
    """Raise ``ValueError`` naming the first of ``values`` (None: unset) that is not a positive integer."""
    for name, value in values.items():
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")


def run_scores(run: RunConfig, splits: Splits, context: PlanContext) -> tuple[ScoreFile, Plan]:
    """The run's cached static scores (computed here if missing) and a plan charged with their cost."""
    need = score_need(run)
    assert need is not None  # called by the kinds whose method reads static scores
    if not context.cache.has(need.key):
        ensure_scores(need, context.cache, context.device)
    scores, record = context.cache.load(need.key)
    scores.check_against(splits.train)
    return scores, Plan(scoring_seconds=record["seconds"], scoring_samples=record["samples"],
                        notes={"score_key": need.key})


def save_positions(context: PlanContext, positions: np.ndarray, train: Any, rule: str, params: dict,
                   **provenance: Any) -> None:
    """Keep the selected subset with its provenance in the run's folder (``subset.npy``)."""
    subset = subset_from_positions(positions, train, rule=rule, params=params, **provenance)
    save_subset(subset, context.run_dir / SUBSET_FILE)
