"""Figure types by name: parsing a recipe's figure tables, and rendering an experiment folder's figures.

An experiment's figures are its main figure (the ``[plot]`` table: curves of the runs, drawn once a run has
finished) and one per ``[figures.NAME]`` table. Rendering writes PNG files named ``<experiment>.png`` and
``<experiment>-<NAME>[-<part>].png``; a figure whose inputs do not exist yet (scores or runs the sweep has not
made) is reported with a note instead.
"""

from __future__ import annotations

from pathlib import Path

from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import FigureInputs, FigureSpec, FigureType, Rendered
from datadiet.experiments.figures.compute import AccuracyComputeFigure
from datadiet.experiments.figures.correlation import CorrelationFigure
from datadiet.experiments.figures.curves import CurvesFigure
from datadiet.experiments.figures.dynamics import BarrierFigure, VelocityFigure
from datadiet.experiments.figures.gallery import GalleryFigure
from datadiet.experiments.figures.noise import NoiseFigure
from datadiet.experiments.figures.selection import SelectionCountsFigure
from datadiet.experiments.figures.stability import StabilityFigure
from datadiet.experiments.figures.time_to_accuracy import TimeToAccuracyFigure
from datadiet.experiments.layout import FIGURES_DIR
from datadiet.experiments.methods import ANALYSIS_KINDS, Method, single
from datadiet.experiments.results import ExperimentResults
from datadiet.experiments.scoring import need_of
from datadiet.experiments.values import build

__all__ = [
    "FIGURES_DIR", "FIGURE_TYPES", "figure_entries", "parse_figure", "plot_experiment", "render_all", "render_entry",
]

FIGURE_TYPES: dict[str, type[FigureType]] = {
    cls.type: cls for cls in (CurvesFigure, SelectionCountsFigure, CorrelationFigure, StabilityFigure, NoiseFigure,
                              GalleryFigure, VelocityFigure, BarrierFigure, AccuracyComputeFigure,
                              TimeToAccuracyFigure)
}


def parse_figure(name: str, table: dict, methods: dict[str, list[Method]], runs: tuple[RunConfig, ...],
                 context: RunConfig | str) -> FigureSpec:
    """The figure ``[figures.NAME]``; its scores are computed on ``context`` (the [base] configuration as a run,
    or why it is incomplete)."""
    where = f"figures.{name}"
    table = dict(table)
    kind = table.pop("type", None)
    if kind not in FIGURE_TYPES:
        raise ValueError(f"{where}: unknown figure type {kind!r}; valid: {', '.join(FIGURE_TYPES)}")
    settings = build(FIGURE_TYPES[kind], table, where)
    settings.check(where, runs, methods)
    labels = settings.score_labels()
    if not labels and not settings.needs_data:
        return FigureSpec(name, settings)
    if isinstance(context, str):
        raise ValueError(f"{where}: its scores are computed on the [base] configuration, which is incomplete: "
                         f"{context}")
    settings.check_data(where, context.data)
    needs = {}
    for label in labels:
        params = single(methods, label, f"{where}.scores", kind="static").params
        if params.at is not None and params.at > context.epochs:
            raise ValueError(f"{where}: method {label!r} scores at epoch {params.at}, past the end of the "
                             f"{context.epochs}-epoch [base] schedule")
        needs[label] = need_of(params, context)
    return FigureSpec(name, settings, needs, context.data if settings.needs_data else None)


def figure_entries(results: ExperimentResults) -> list[dict]:
    """The stored figures of an experiment folder: the main figure (if a training run has finished: analysis runs
    have figures of their own) and the others."""
    main = {"name": "", "type": CurvesFigure.type, "settings": results.info["plot"], "scores": {}, "data": None}
    trained = any(row.config["method"]["kind"] not in ANALYSIS_KINDS for row in results.rows)
    return ([main] if trained else []) + results.info.get("figures", [])


def render_entry(entry: dict, results: ExperimentResults, folder: Path) -> Rendered:
    """Render one stored figure into ``folder``; missing inputs give a note instead of images."""
    settings = build(FIGURE_TYPES[entry["type"]], entry["settings"], f"figures.{entry['name']}")
    stem = results.info["name"] + (f"-{entry['name']}" if entry["name"] else "")
    try:
        return settings.render(FigureInputs(results, entry, stem), folder)
    except FileNotFoundError as missing:
        return Rendered(notes=[str(missing)])


def render_all(results: ExperimentResults, folder: str | Path | None = None) -> list[tuple[dict, Rendered]]:
    """Render every figure into ``folder`` (default: ``<experiment>/figures``): (stored figure, what it made)."""
    folder = Path(folder) if folder is not None else results.folder / FIGURES_DIR
    return [(entry, render_entry(entry, results, folder)) for entry in figure_entries(results)]


def plot_experiment(results: ExperimentResults, folder: str | Path | None = None) -> list[Path]:
    """Save every figure as PNG in ``folder`` (default: ``<experiment>/figures``); returns the paths."""
    return [path for _, rendered in render_all(results, folder) for path in rendered.images]
