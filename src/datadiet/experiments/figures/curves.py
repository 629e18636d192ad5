"""Curves of training runs in the papers' style: a mean line and a 16th-84th percentile band over seeds.

Settings (the recipe's ``[plot]`` table, or a ``[figures.NAME]`` table with ``type = "curves"``): ``x`` (the
fraction ``pruned`` or ``keep``, ``samples_seen``, or a configuration path such as ``method.at``,
``method.offset``, ``method.runs``, ``data.label_noise``), ``panels`` (``accuracy``: test accuracy;
``wallclock``: training plus scoring wall-clock, static scoring charged to every run that uses it) and
``methods`` (the labels shown; default all). Full data, and any series whose runs lack the x key (a random
subset against the scoring epoch), is a horizontal reference line with its band; random subsets are grey
(static: dashed, dynamic: dotted), and a second series of the same kind (full data at another noise level) the
same colour with another dash pattern; every other method gets a colour. Analysis runs (kernel velocity, error
barrier) have figures of their own and are not shown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from datadiet.analysis.plotting import save_figure
from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table
from datadiet.experiments.methods import ANALYSIS_KINDS, Method
from datadiet.experiments.results import AXES, METRICS, Point, flatten

__all__ = ["PANELS", "CurvesFigure"]

PANELS = ("accuracy", "wallclock")
_X_LABELS = {"pruned": "fraction of training data pruned", "keep": "fraction of training data kept",
             "samples_seen": "samples seen (training examples forwarded)"}


@dataclass(frozen=True)
class CurvesFigure(FigureType):
    """Accuracy (and wall-clock) of the runs against ``x``, one curve per series."""

    x: str = "pruned"
    panels: tuple[str, ...] = ("accuracy",)
    methods: tuple[str, ...] = ()
    type: ClassVar[str] = "curves"

    def __post_init__(self) -> None:
        bad = [p for p in self.panels if p not in PANELS]
        if bad or not self.panels:
            raise ValueError(f"plot.panels must be a non-empty list of {', '.join(PANELS)}, got {list(self.panels)}")

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """The methods must be used by runs, and ``x`` an axis or a configuration key of some run."""
        used = {r.method.label for r in runs}
        unknown = [m for m in self.methods if m not in used]
        if unknown:
            raise ValueError(f"{where}.methods: no run uses {unknown[0]!r}; used: {', '.join(sorted(used))}")
        if self.x in AXES or not runs:
            return
        flat = [flatten(r.to_dict()) for r in runs]
        if not any(self.x in f for f in flat):
            keys = {k for f in flat for k in f}
            varying = sorted(k for k in keys if len({str(f.get(k)) for f in flat}) > 1)
            raise ValueError(f"unknown {where}.x {self.x!r}; valid: {', '.join(AXES)}, or a configuration key "
                             f"of the runs such as {', '.join(varying) or 'method.at'}")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        points = [p for p in inputs.results.points(self.x, self.methods) if p.kind not in ANALYSIS_KINDS]
        if not points:
            return Rendered(notes=["no run of this figure has finished yet"])
        figure = Figure(figsize=(5.2 * len(self.panels), 4.2), layout="constrained")
        for i, panel in enumerate(self.panels):
            _panel(figure.add_subplot(1, len(self.panels), i + 1), points, panel, self.x)
        preset = inputs.results.info.get("preset")
        figure.suptitle(inputs.results.info["name"] + (f" (preset {preset})" if preset else ""))
        path = save_figure(figure, inputs.path(folder), dpi=120)
        tables = [_stats_table(points, panel, self.x) for panel in self.panels]
        return Rendered([path], [*tables, _cost_table(points, self.x)])


def _axis_name(axis: str) -> str:
    return _X_LABELS.get(axis, axis)


def _panel(ax: Axes, points: list[Point], panel: str, axis: str) -> None:
    _, label, _ = METRICS[panel]
    series: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        series[p.series].append(p)
    xs = [x for p in points if p.kind != "full" and (x := p.x(axis)) is not None] or [0.0, 1.0]
    span = (min(xs), max(xs))
    colours = iter(f"C{i}" for i in range(100))
    used: Counter = Counter()
    for name, members in series.items():
        style = _style(members[0].method, colours, used)
        if all(p.kind == "full" or p.x(axis) is None for p in members):
            _reference_line(ax, name, members, panel, span, style)
        else:
            _curve(ax, name, [p for p in members if p.x(axis) is not None], panel, axis, style)
    ax.set_xlabel(_axis_name(axis))
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


_Dash = str | tuple[int, tuple[int, ...]]  # a matplotlib linestyle: a name or (offset, on-off pattern)
_FIXED: dict[str, tuple[str, _Dash]] = {"full": ("black", "-"), "random": ("grey", "--"),
                                       "random_dynamic": ("grey", ":")}
# dash patterns for the 2nd, 3rd, ... series of one fixed style
_REPEATS: tuple[_Dash, ...] = ("-.", (0, (6, 2)), (0, (1, 2, 4, 2)))


def _style(method: dict, colours, used: Counter) -> dict:
    """Full data black, random subsets grey (static dashed, dynamic dotted), other methods the next colour.

    The fixed styles repeat when the grid has more series of one kind (full data at two noise levels): each
    repeat keeps the colour and takes the next dash pattern of ``_REPEATS`` (``used`` counts them per panel).
    """
    kind = "random_dynamic" if method.get("policy") == "random" else method["kind"]
    if kind not in _FIXED:
        return {"color": next(colours), "linestyle": "-"}
    colour, linestyle = _FIXED[kind]
    repeat = used[kind]
    used[kind] += 1
    if repeat:
        linestyle = _REPEATS[(repeat - 1) % len(_REPEATS)]
    return {"color": colour, "linestyle": linestyle}


def _reference_line(ax: Axes, name: str, members: list[Point], panel: str, span: tuple[float, float],
                    style: dict) -> None:
    """A horizontal line at the mean with its band, across the x range of the other series."""
    for p in members:
        mean, low, high = p.stats(panel)
        suffix = f", pruned {p.pruned:g}" if len(members) > 1 else ""
        ax.hlines(mean, *span, label=f"{name}{suffix} (n={len(p.seeds)})", **style)
        ax.fill_between(span, low, high, color=style["color"], alpha=0.12, linewidth=0)


def _curve(ax: Axes, name: str, members: list[Point], panel: str, axis: str, style: dict) -> None:
    located = sorted(((x, p) for p in members if (x := p.x(axis)) is not None), key=lambda xp: xp[0])
    members = [p for _, p in located]
    stats = [p.stats(panel) for p in members]
    xs = [x for x, _ in located]
    n = sorted({len(p.seeds) for p in members})
    ax.plot(xs, [s[0] for s in stats], marker="o", markersize=4, label=f"{name} (n={'/'.join(map(str, n))})",
            **style)
    ax.fill_between(xs, [s[1] for s in stats], [s[2] for s in stats], color=style["color"], alpha=0.18,
                    linewidth=0)


def _x_cell(p: Point, axis: str) -> str:
    value = p.x(axis)
    return "-" if value is None else f"{value:.3f}" if axis in ("pruned", "keep") else f"{value:g}"


def _stats_table(points: list[Point], panel: str, axis: str) -> Table:
    rows = []
    for p in points:
        mean, low, high = p.stats(panel)
        rows.append([p.series, _x_cell(p, axis), f"{mean:.2f}", f"{low:.2f}", f"{high:.2f}", str(len(p.seeds))])
    return Table(f"Numbers: {METRICS[panel][1]}", ["method", axis, "mean", "p16", "p84", "n"], rows)


def _cost_table(points: list[Point], axis: str) -> Table:
    """Mean training, scoring and total seconds, samples seen, and total time relative to full data."""
    full = [p.stats("wallclock")[0] for p in points if p.is_reference]
    reference = full[0] if len(full) == 1 else None
    rows = []
    for p in points:
        total = p.stats("wallclock")[0]
        rows.append([p.series, _x_cell(p, axis), f"{p.stats('train_seconds')[0]:.1f}",
                     f"{p.stats('scoring_seconds')[0]:.1f}", f"{total:.1f}", f"{p.stats('samples_seen')[0]:.0f}",
                     f"{total / reference:.2f}" if reference else "-"])
    note = ("Scoring includes the static scores a run uses, charged in full to every run that uses them "
            "(the cost of computing them once), and the scoring passes of dynamic pruning.")
    return Table("Cost of each method", ["method", axis, "training (s)", "scoring (s)", "total (s)",
                                         "samples seen", "total / full"], rows, note)
