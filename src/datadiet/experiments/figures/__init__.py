"""Figures of an experiment folder: curves of the runs and analyses of scores and selections, as PNG + tables.

Types (a recipe's ``[figures.NAME]`` tables, ``type = ...``; the ``[plot]`` table is the main ``curves``):
``curves`` (:mod:`.curves`), ``selection_counts`` (:mod:`.selection`), ``correlation``, ``stability``,
``noise`` and ``gallery`` (one module each), ``velocity`` and ``barrier`` (:mod:`.dynamics`),
``accuracy_compute`` (:mod:`.compute`: accuracy with each method's total compute), ``time_to_accuracy``
(:mod:`.time_to_accuracy`: accuracy against wall-clock and the time to full data's accuracy).
:func:`plot_experiment` writes them all.
"""

from datadiet.experiments.figures.base import FigureInputs, FigureSpec, FigureType, Rendered, Table
from datadiet.experiments.figures.curves import CurvesFigure
from datadiet.experiments.figures.registry import (
    FIGURE_TYPES, FIGURES_DIR, figure_entries, parse_figure, plot_experiment, render_all, render_entry,
)

__all__ = [
    "FIGURES_DIR", "FIGURE_TYPES", "CurvesFigure", "FigureInputs", "FigureSpec", "FigureType", "Rendered", "Table",
    "figure_entries", "parse_figure", "plot_experiment", "render_all", "render_entry",
]
