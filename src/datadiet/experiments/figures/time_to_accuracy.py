"""Test accuracy against wall-clock, scoring included, and each method's time to reach full data's accuracy.

Settings (``type = "time_to_accuracy"``): ``methods`` (labels shown; default all training methods) and
``tolerance``, the accuracy (points) below full data's that counts as reached (default 0.3).

Every run's log (``runs/<id>/log.jsonl``: the cumulative training and scoring seconds and the test accuracy of each
evaluated epoch, so evaluate every epoch, ``eval_every = 1``) is one curve; a static method's runs start at the
seconds of the score runs charged to them (``static_scoring_seconds``). Wall-clock is divided by the total of the
full-data run of the same seed on the same data and schedule, so the seeds' curves are comparable; a point's
curve is the mean over its seeds at each evaluated epoch. One panel per fraction kept; full data and the methods
that set their own size (InfoBatch) are drawn in each. The target (a dotted line) is the mean final accuracy of the
full-data runs minus ``tolerance``.

The table (:func:`time_table`) gives, per method and fraction kept: the final accuracy (mean ± std over seeds) and
its difference to full data's mean, the wall-clock relative to full data (mean ± std of the same-seed ratios) with
the part of it spent scoring, and the time to target: the wall-clock (over full data's, same seed) at the first
evaluation whose accuracy reaches the target, the mean over the seeds that reach it, and how many do.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from datadiet.analysis.plotting import save_figure
from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table
from datadiet.experiments.figures.costs import check_against_full, setting_key
from datadiet.experiments.methods import Method
from datadiet.experiments.results import Point
from datadiet.training.trainer import LOG_FILE

__all__ = ["Timed", "TimeToAccuracyFigure", "read_curve", "time_table", "time_to_target", "timed_points"]


@dataclass(frozen=True)
class TimeToAccuracyFigure(FigureType):
    """Curves of test accuracy against wall-clock relative to full data, one panel per fraction kept."""

    methods: tuple[str, ...] = ()
    tolerance: float = 0.3
    type: ClassVar[str] = "time_to_accuracy"

    def __post_init__(self) -> None:
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, (int, float)) or not (
                0 <= self.tolerance < 100):
            raise ValueError(f"tolerance must be a number of accuracy points in [0, 100), got {self.tolerance!r}")

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """The methods must be training methods some run uses, and full data among the runs (the reference)."""
        check_against_full(where, self.methods, runs, "time to accuracy")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        points = [p for p in inputs.results.points("pruned", self.methods) if "test_accuracy" in p.metrics]
        timed = timed_points(points, lambda run_id: _read_log(inputs.run_dir(run_id)), self.tolerance)
        if not any(t.ratios.size for t in timed if not t.point.is_reference):
            return Rendered(notes=["no full-data run and no other run of the same seed have both finished yet"])
        kept = sorted({1.0 - t.point.pruned for t in timed if t.point.keep is not None}, reverse=True) or [1.0]
        figure = Figure(figsize=(6.4 * len(kept), 4.8), layout="constrained")
        axes = figure.subplots(1, len(kept), squeeze=False)[0]
        for ax, keep in zip(axes, kept):
            shown = [t for t in timed if t.point.keep is None or abs(1.0 - t.point.pruned - keep) < 1e-9]
            _panel(ax, shown, keep, self.tolerance)
        preset = inputs.results.info.get("preset")
        figure.suptitle(f"{inputs.results.info['name']}" + (f" (preset {preset})" if preset else "")
                        + ": test accuracy against wall-clock incl. scoring")
        path = save_figure(figure, inputs.path(folder), dpi=110)
        return Rendered([path], [time_table(timed, self.tolerance)])


@dataclass(frozen=True)
class Timed:
    """A point's runs as curves: ``seconds[i]`` and ``accuracy[i]`` (%) at the evaluated epochs of seed ``i``, the
    same-seed wall-clock ratios to full data (``ratios``, ``scoring``: its scoring part), the ``target`` (%) and
    each seed's time to it over full data's (``to_target``, NaN if never reached); seeds without a finished
    full-data run are left out."""

    point: Point
    seconds: list[np.ndarray]
    accuracy: list[np.ndarray]
    ratios: np.ndarray
    scoring: np.ndarray
    target: float
    to_target: np.ndarray


def _read_log(run_dir: Path) -> list[dict]:
    path = run_dir / LOG_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_curve(log: list[dict], charged: float) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative seconds (training + scoring + ``charged``, the static scoring) and test accuracy (%) of the
    evaluated epochs of a run's ``log``."""
    evaluated = [e for e in log if e.get("test_accuracy") is not None]
    seconds = np.array([e["train_seconds"] + e["scoring_seconds"] + charged for e in evaluated], dtype=np.float64)
    return seconds, 100.0 * np.array([e["test_accuracy"] for e in evaluated], dtype=np.float64)


def time_to_target(seconds: np.ndarray, accuracy: np.ndarray, target: float) -> float:
    """Seconds at the first evaluation whose accuracy reaches ``target``; NaN if none does."""
    reached = np.flatnonzero(accuracy >= target - 1e-9)
    return float(seconds[reached[0]]) if reached.size else float("nan")


def timed_points(points: list[Point], read_log, tolerance: float) -> list[Timed]:
    """``points`` with their curves (``read_log(run_id)`` gives a run's log entries), ratios and times to target."""
    full: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for p in points:
        if p.is_reference:
            for i, seed in enumerate(p.seeds):
                full[setting_key(p)][seed] = (float(p.metrics["total_seconds"][i]),
                                              100.0 * float(p.metrics["test_accuracy"][i]))
    out = []
    for p in points:
        reference = full.get(setting_key(p), {})
        target = float(np.mean([a for _, a in reference.values()])) - tolerance if reference else float("nan")
        charged = p.metrics.get("static_scoring_seconds", np.zeros(len(p.seeds)))
        seconds, accuracy, ratios, scoring, to_target = [], [], [], [], []
        for i, (seed, run_id) in enumerate(zip(p.seeds, p.run_ids)):
            if seed not in reference:
                continue
            base = reference[seed][0]
            s, a = read_curve(read_log(run_id), float(charged[i]))
            seconds.append(s / base)
            accuracy.append(a)
            ratios.append(float(p.metrics["total_seconds"][i]) / base)
            scoring.append(float(p.metrics["scoring_seconds"][i]) / base)
            to_target.append(time_to_target(s, a, target) / base)
        out.append(Timed(p, seconds, accuracy, np.array(ratios), np.array(scoring), target, np.array(to_target)))
    return out


def time_table(timed: list[Timed], tolerance: float) -> Table:
    """Final accuracy, wall-clock and time to target per method and fraction kept (see the module docstring)."""
    rows = []
    order = sorted(timed, key=lambda t: (not t.point.is_reference, t.point.keep is not None, -(1 - t.point.pruned),
                                         t.point.series))
    for t in order:
        if not t.ratios.size:
            continue
        accuracy = 100.0 * t.point.metrics["test_accuracy"]
        full_mean = t.target + tolerance  # the mean final accuracy of full data on the same setting
        reached = t.to_target[~np.isnan(t.to_target)]
        to_target = f"{reached.mean():.2f}x" if reached.size else "never"
        kept = f"{1 - t.point.pruned:.2f}" + (" (own)" if t.point.keep is None else "")
        rows.append([t.point.series, kept, f"{accuracy.mean():.2f} ± {_std(accuracy):.2f}",
                     f"{accuracy.mean() - full_mean:+.2f}",
                     f"{t.ratios.mean():.2f}x ± {_std(t.ratios):.2f}", f"{t.scoring.mean():.2f}x",
                     f"{to_target} ({reached.size}/{t.to_target.size})"])
    headers = ["method", "kept", "test accuracy (%)", "vs full", "wall-clock / full", "of which scoring",
               f"time to full - {tolerance:g} / full"]
    note = (f"Mean ± standard deviation over seeds. Wall-clock includes every scoring pass and the static scoring "
            f"runs, divided by the full-data run's of the same seed. Time to target: the wall-clock at the first "
            f"evaluation reaching full data's mean final accuracy minus {tolerance:g} points, mean over the seeds "
            "that reach it (how many do, in brackets). Kept: the fraction of examples per pruned epoch; '(own)': "
            "the fraction of all epochs' examples that a method setting its own size trained on.")
    return Table("Time to accuracy", headers, rows, note)


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _panel(ax: Axes, shown: list[Timed], keep: float, tolerance: float) -> None:
    """Mean curves (over seeds) of the ``shown`` points on ``ax``; the target and 0.5x as dotted lines."""
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    targets = [t.target for t in shown if not np.isnan(t.target)]
    for i, t in enumerate(sorted((t for t in shown if t.seconds), key=lambda t: t.point.series)):
        size = min(len(s) for s in t.seconds)
        if not size:
            continue
        x = np.mean([s[:size] for s in t.seconds], axis=0)
        y = np.mean([a[:size] for a in t.accuracy], axis=0)
        style = {"color": "black", "linewidth": 1.6} if t.point.is_reference else {"color": cmap(i % 10)}
        ax.plot(x, y, marker=".", markersize=3, label=f"{t.point.series} (n={len(t.seconds)})", **style)
    if targets:
        target = targets[0]
        ax.axhline(target, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(target - 5 * max(tolerance, 0.5), target + tolerance + 1.5)
    ax.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"kept {keep:.0%} of the examples per pruned epoch" if keep < 1 else "full data")
    ax.set_xlabel("wall-clock incl. scoring / full data's (same seed)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
