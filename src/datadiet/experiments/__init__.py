"""Experiments: TOML recipes expanded into runs, swept once each with results in SQLite, plotted and reported.

:func:`load_recipe` reads a recipe (see :mod:`~datadiet.experiments.recipe` for the schema) into an
:class:`Experiment` of :class:`RunConfig` s and figures; :func:`run_sweep` runs the unfinished runs and
computes the score sets the figures show (locally, in a process pool or on Ray) into an experiment folder;
:func:`load_results`, :func:`plot_experiment`, :func:`write_report` and :func:`export_results` turn the folder
into figures, an HTML report and tables. The method kinds (full, random, static, dynamic, always_sometimes,
velocity, barrier) live one per module in :mod:`~datadiet.experiments.kinds`; the names of an experiment
folder's files in :mod:`~datadiet.experiments.layout`.
"""

from datadiet.experiments.config import DataConfig, ModelConfig, RunConfig
from datadiet.experiments.estimate import estimate, format_plan
from datadiet.experiments.export import export_results
from datadiet.experiments.figures import FIGURE_TYPES, CurvesFigure, plot_experiment
from datadiet.experiments.methods import METHOD_KINDS, Method
from datadiet.experiments.recipe import Experiment, expand, load_recipe
from datadiet.experiments.report import write_report
from datadiet.experiments.results import ExperimentResults, Point, load_results
from datadiet.experiments.scoring import ScoreCache, ScoreNeed, score_need
from datadiet.experiments.store import ResultRow, ResultStore
from datadiet.experiments.sweep import SweepSummary, read_experiment, run_sweep
from datadiet.experiments.tasks import execute_run

__all__ = [
    "CurvesFigure", "DataConfig", "Experiment", "ExperimentResults", "FIGURE_TYPES", "METHOD_KINDS", "Method",
    "ModelConfig", "Point", "ResultRow", "ResultStore", "RunConfig", "ScoreCache", "ScoreNeed", "SweepSummary",
    "estimate", "execute_run", "expand", "export_results", "format_plan", "load_recipe", "load_results",
    "plot_experiment", "read_experiment", "run_sweep", "score_need", "write_report",
]
