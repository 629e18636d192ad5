"""Figures of an experiment in the papers' style: a mean line and a 16th-84th percentile band over seeds.

One panel per entry of the recipe's ``[plot] panels``: ``accuracy`` (test accuracy vs the fraction pruned or
kept) and ``wallclock`` (training plus scoring wall-clock, static scoring charged to every run that uses it).
Full data is a horizontal line with its band; random subsets are grey references (static: dashed, dynamic:
dotted); every other method gets a colour.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from datadiet.analysis.plotting import save_figure
from datadiet.experiments.results import METRICS, ExperimentResults, Point

__all__ = ["FIGURES_DIR", "experiment_figure", "plot_experiment"]

FIGURES_DIR = "figures"
_X_LABELS = {"pruned": "fraction of training data pruned", "keep": "fraction of training data kept"}


def experiment_figure(results: ExperimentResults) -> Figure:
    """The experiment's figure: one panel per ``plot.panels`` entry, side by side."""
    plot = results.info["plot"]
    panels = plot["panels"]
    figure = Figure(figsize=(5.2 * len(panels), 4.2), layout="constrained")
    points = results.points()
    for i, panel in enumerate(panels):
        _panel(figure.add_subplot(1, len(panels), i + 1), points, panel, plot["x"])
    preset = results.info.get("preset")
    figure.suptitle(results.info["name"] + (f" (preset {preset})" if preset else ""))
    return figure


def plot_experiment(results: ExperimentResults, folder: str | Path | None = None) -> list[Path]:
    """Save the experiment's figure as PNG in ``folder`` (default: ``<experiment>/figures``); returns the paths."""
    folder = Path(folder) if folder is not None else results.folder / FIGURES_DIR
    figure = experiment_figure(results)
    return [save_figure(figure, folder / f"{results.info['name']}.png")]


def _panel(ax: Axes, points: list[Point], panel: str, axis: str) -> None:
    _, label, _ = METRICS[panel]
    series: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        series[p.series].append(p)
    xs = [p.x(axis) for p in points if p.kind != "full"] or [0.0, 1.0]
    span = (min(xs), max(xs))
    colours = iter(f"C{i}" for i in range(100))
    for name, members in series.items():
        if all(p.kind == "full" for p in members):
            _reference_line(ax, name, members, panel, span)
        else:
            _curve(ax, name, members, panel, axis, colours)
    ax.set_xlabel(_X_LABELS[axis])
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def _reference_line(ax: Axes, name: str, members: list[Point], panel: str, span: tuple[float, float]) -> None:
    """Full data: a horizontal line at the mean with its band, across the x range of the other methods."""
    for p in members:
        mean, low, high = p.stats(panel)
        ax.hlines(mean, *span, colors="black", label=f"{name} (n={len(p.seeds)})")
        ax.fill_between(span, low, high, color="black", alpha=0.12, linewidth=0)


def _curve(ax: Axes, name: str, members: list[Point], panel: str, axis: str, colours) -> None:
    members = sorted(members, key=lambda p: p.x(axis))
    stats = [p.stats(panel) for p in members]
    x = [p.x(axis) for p in members]
    method = members[0].method
    if method["kind"] == "random":
        style = {"color": "grey", "linestyle": "--"}
    elif method.get("policy") == "random":
        style = {"color": "grey", "linestyle": ":"}
    else:
        style = {"color": next(colours)}
    n = sorted({len(p.seeds) for p in members})
    ax.plot(x, [s[0] for s in stats], marker="o", markersize=4, label=f"{name} (n={'/'.join(map(str, n))})",
            **style)
    ax.fill_between(x, [s[1] for s in stats], [s[2] for s in stats], color=style["color"], alpha=0.18,
                    linewidth=0)
