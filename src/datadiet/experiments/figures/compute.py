"""Accuracy against the fraction pruned with each method's total compute, scoring included: does pruning pay?

Settings (``type = "accuracy_compute"``): ``methods`` (labels shown; default all) and ``compute``, the measure of a
run's total compute (:mod:`~.costs`): ``"wallclock"`` (training plus scoring seconds, paper 2's measure) or
``"samples"`` (examples processed, scoring included). Each point's compute is the mean over its seeds divided by
that of full data on the same data and schedule: 1.0x costs what full data costs.

One panel per family of methods (:func:`~.costs.family`: difficulty scores, coverage-centric selection, rules on
embeddings, dynamic pruning), each with full data (a black line at its mean accuracy) and the static random
subsets (grey, dashed) as references. Points are the mean accuracy over seeds with bars of one standard deviation
(sample, ``ddof = 1``); a marker's area is proportional to its compute ratio (the legend gives the scale).
Methods that set their own size (InfoBatch) sit at their realized fraction pruned. The table
(:func:`~.costs.compute_table`) gives accuracy mean ± std and the compute ratio of every method at every fraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from datadiet.analysis.plotting import save_figure
from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered
from datadiet.experiments.figures.costs import (
    COMPUTE, FAMILIES, Costed, check_against_full, compute_table, costed, family,
)
from datadiet.experiments.methods import Method

__all__ = ["AccuracyComputeFigure"]

_SIZE = 60.0  # marker area (points^2) of a method that costs what full data costs
_SCALE = (0.25, 0.5, 1.0, 2.0, 4.0)
_Line = Literal["-", "--"]
_FIXED: dict[str, tuple[str, _Line, str]] = {"full": ("black", "-", "o"), "random": ("grey", "--", "s")}
"""Colour, line and marker of the references; every other method takes the next colour and marker, solid."""


@dataclass(frozen=True)
class AccuracyComputeFigure(FigureType):
    """Accuracy against fraction pruned, one panel per family of methods, marker area = total compute."""

    methods: tuple[str, ...] = ()
    compute: str = "wallclock"
    type: ClassVar[str] = "accuracy_compute"

    def __post_init__(self) -> None:
        if self.compute not in COMPUTE:
            raise ValueError(f"compute must be one of {', '.join(COMPUTE)}, got {self.compute!r}")

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """The methods must be training methods some run uses, and full data among the runs (the reference)."""
        check_against_full(where, self.methods, runs, "compute")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        points = costed(inputs.results.points("pruned", self.methods), self.compute)
        if not any(p.ratio is not None for p in points):
            return Rendered(notes=["no full-data run and no other run of this figure have both finished yet"])
        panels = [f for f in FAMILIES if any(family(p.point.method) == f for p in points)] or ["reference"]
        references = [p for p in points if family(p.point.method) == "reference"]
        figure = Figure(figsize=(12.0, 4.4 * len(panels)), layout="constrained")
        grid = figure.add_gridspec(len(panels), 2, width_ratios=(3, 2))
        for i, name in enumerate(panels):
            shown = [p for p in points if family(p.point.method) == name]
            others = references if name != "reference" else []
            _panel(figure.add_subplot(grid[i, 0]), figure.add_subplot(grid[i, 1]), name, shown, others)
        preset = inputs.results.info.get("preset")
        measure = COMPUTE[self.compute]
        figure.suptitle(f"{inputs.results.info['name']}" + (f" (preset {preset})" if preset else "")
                        + f": accuracy and total compute ({measure}, relative to full data)")
        path = save_figure(figure, inputs.path(folder), dpi=110)
        return Rendered([path], [compute_table(points, self.compute)])


def _panel(ax: Axes, key: Axes, name: str, shown: list[Costed], references: list[Costed]) -> None:
    """One family's curves on ``ax``; their legend and the scale of marker areas on ``key``."""
    series: dict[str, list[Costed]] = defaultdict(list)
    for p in [*references, *shown]:
        series[p.point.series].append(p)
    colours = iter(_colours(len(series)))
    markers = iter("osD^v<>phX*P8" * 4)
    handles = []
    for label, members in series.items():
        point = members[0].point
        reference = point.is_reference
        fixed = _FIXED.get(point.kind) if reference or point.kind != "full" else None  # a shorter full run: a method
        colour, line, marker = fixed or (next(colours), "-", next(markers))
        if reference:
            _full_line(ax, members, colour)
        else:
            _curve(ax, members, colour, line, marker)
        seeds = "/".join(map(str, sorted({len(p.point.seeds) for p in members})))
        handles.append(Line2D([], [], color=colour, linestyle=line, marker=None if reference else marker,
                              markeredgecolor="black", markeredgewidth=0.4, label=f"{label} (n={seeds})"))
    ax.set_title(name)
    ax.set_xlim(-0.02, 1.0)
    ax.set_xlabel("fraction of training data pruned")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    key.axis("off")
    key.add_artist(key.legend(handles=handles, fontsize="small", loc="upper left", ncols=1 + len(series) // 11,
                              frameon=False))
    key.legend(handles=_scale_handles(), title="total compute / full data (marker area)", fontsize="small",
               loc="lower left", ncols=len(_SCALE), frameon=False)


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(max(n, 1))]


def _curve(ax: Axes, members: list[Costed], colour, line: _Line, marker: str) -> None:
    """Mean accuracy against fraction pruned, bars of one std, marker areas by compute."""
    members = sorted(members, key=lambda p: p.point.pruned)
    xs, means = [p.point.pruned for p in members], [p.mean for p in members]
    ax.plot(xs, means, color=colour, linestyle=line, linewidth=1, alpha=0.7)
    ax.errorbar(xs, means, yerr=[p.std for p in members], fmt="none", ecolor=colour, elinewidth=0.8, alpha=0.7)
    ax.scatter(xs, means, s=[_area(p.ratio) for p in members], color=colour, marker=marker, edgecolors="black",
               linewidths=0.4, zorder=3)


def _full_line(ax: Axes, members: list[Costed], colour) -> None:
    for p in members:
        ax.axhline(p.mean, color=colour, linewidth=1.2)
        ax.axhspan(p.mean - p.std, p.mean + p.std, color=colour, alpha=0.08, linewidth=0)


def _area(ratio: float | None) -> float:
    return 12.0 if ratio is None else float(np.clip(_SIZE * ratio, 4.0, 12 * _SIZE))


def _scale_handles() -> list[Line2D]:
    return [Line2D([], [], linestyle="none", marker="o", markersize=np.sqrt(_area(r)), markerfacecolor="white",
                   markeredgecolor="black", label=f"{r:g}x") for r in _SCALE]
