"""Figures of the analysis runs (paper 1, Sec. 5): kernel velocity (Fig. 3) and error barrier (Fig. 4).

Settings (``type = "velocity"`` or ``type = "barrier"``): ``methods``, the labels of the velocity (barrier)
methods shown; default all. Each figure reads the JSON its runs wrote (see the kinds
:mod:`~datadiet.experiments.kinds.velocity` and :mod:`~datadiet.experiments.kinds.barrier`) and draws it with the
library's plots, over the seeds of each point: the mean line with a 16th-84th percentile band where there are
several seeds.

- ``velocity``: one image per series (method, and any varying setting but the label noise): x = starting rank
  (ascending score at the curve's first epoch), one curve per tracked epoch, one panel per label-noise level.
- ``barrier``: one image per point: x = spawn epoch, y = the error barrier (paper 1, eq. 5: how far the error
  rises above the straight line between the two children's errors), one curve per set (highest, lowest, random,
  test).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from datadiet.analysis import error_barrier, noise_title, plot_error_barriers, plot_kernel_velocity
from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table, check_shown_methods
from datadiet.experiments.layout import BARRIER_FILE, VELOCITY_FILE
from datadiet.experiments.methods import Method
from datadiet.experiments.results import Point, spread

__all__ = ["BarrierFigure", "VelocityFigure"]


class _AnalysisFigure(FigureType):
    """Shared by both: the methods of one analysis kind (the figure type names it), and the JSON of their runs."""

    file: ClassVar[str] = ""
    methods: tuple[str, ...]

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """The methods must be of the kind this figure is named after and used by some run."""
        check_shown_methods(where, self.methods, runs, (self.type,), self.type)

    def points(self, inputs: FigureInputs, x: str) -> list[Point]:
        return [p for p in inputs.results.points(x, self.methods) if p.kind == self.type]

    def records(self, inputs: FigureInputs, point: Point) -> list[dict]:
        """The JSON of each run (seed) of ``point``."""
        return [json.loads((inputs.run_dir(run_id) / self.file).read_text()) for run_id in point.run_ids]

    def missing(self) -> Rendered:
        return Rendered(notes=[f"no {self.type} run of this figure has finished yet"])


@dataclass(frozen=True)
class VelocityFigure(_AnalysisFigure):
    """Kernel velocity against starting rank, one curve per epoch, one panel per label-noise level."""

    methods: tuple[str, ...] = ()
    type: ClassVar[str] = "velocity"
    file: ClassVar[str] = VELOCITY_FILE

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        series: dict[str, list[Point]] = defaultdict(list)
        for p in self.points(inputs, "data.label_noise"):
            series[p.series].append(p)
        if not series:
            return self.missing()
        rendered = Rendered()
        for i, (name, members) in enumerate(series.items()):
            members.sort(key=lambda p: p.config["data.label_noise"])
            records = [self.records(inputs, p) for p in members]
            ranks = records[0][0]["ranks"]
            if any(r["ranks"] != ranks for runs in records for r in runs):
                raise ValueError(f"{name}: the runs measured different starting ranks; plot them separately")
            panels = {noise_title(p.config["data.label_noise"]): np.array([r["velocity"] for r in runs])
                      for p, runs in zip(members, records)}
            first = records[0][0]
            title = f"{name}: {first['dataset']}, windows of {first['window']} examples"
            rendered.images.append(plot_kernel_velocity(ranks, panels, inputs.path(folder, str(i) if i else ""),
                                                        title=title))
            rows = [[panel, f"{e}\u2192{e + 1}", *(f"{v:.4f}" for v in values.mean(0)[e]), str(len(values))]
                    for panel, values in panels.items() for e in range(values.shape[1])]
            rendered.tables.append(Table(f"{name}: mean kernel velocity over seeds", [
                "panel", "epochs", *(f"rank {r}" for r in ranks), "n"], rows, "Starting ranks in ascending order of "
                "the score at each curve's first epoch: rank 0 is the lowest-scored window at that epoch."))
        return rendered


@dataclass(frozen=True)
class BarrierFigure(_AnalysisFigure):
    """Error barrier against spawn epoch, one curve per evaluation set."""

    methods: tuple[str, ...] = ()
    type: ClassVar[str] = "barrier"
    file: ClassVar[str] = BARRIER_FILE

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        points = self.points(inputs, "pruned")
        if not points:
            return self.missing()
        rendered = Rendered()
        for i, p in enumerate(points):
            records = self.records(inputs, p)
            spawns = records[0]["spawn_epochs"]
            barriers = {name: np.array([_barriers(r, name) for r in records]) for name in records[0]["errors"]}
            title = f"{p.series}: subsets by EL2N at epoch {records[0]['score_epoch']} (n={len(records)})"
            rendered.images.append(plot_error_barriers(spawns, barriers, inputs.path(folder, str(i) if i else ""),
                                                       title=title))
            rows = [[name, *(_cell(values[:, s]) for s in range(len(spawns))), str(len(values))]
                    for name, values in barriers.items()]
            rendered.tables.append(Table(f"{p.series}: error barrier by spawn epoch", [
                "set", *(f"spawn {t}" for t in spawns), "n"], rows,
                "Barrier: paper 1, eq. 5, the most the error rises above the straight line between the two "
                "children's errors. Mean over seeds, with the 16th-84th percentile in brackets when there are "
                "several."))
        return rendered


def _barriers(record: dict, name: str) -> list[float]:
    """A run's barriers on set ``name`` at each spawn epoch, from its errors along the path (eq. 5, whichever
    version of the code wrote the file)."""
    return [error_barrier(row, record["alphas"]) for row in record["errors"][name]]


def _cell(values: np.ndarray) -> str:
    mean, low, high = spread(values)
    return f"{mean:.3f}" if len(values) == 1 else f"{mean:.3f} [{low:.3f}, {high:.3f}]"
