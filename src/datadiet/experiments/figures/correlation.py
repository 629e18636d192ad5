"""Pairwise Spearman correlations between score sets (paper 1, Fig. 12).

Settings (``type = "correlation"``): ``scores``, at least two labels of static methods of the recipe (different
scores, or one score at different time points); the mean of each set over its runs is ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from datadiet.analysis import correlation_matrix, plot_correlation_matrix
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table

__all__ = ["CorrelationFigure"]


@dataclass(frozen=True)
class CorrelationFigure(FigureType):
    """A heatmap of the Spearman correlations of the named score sets' means."""

    scores: tuple[str, ...]
    type: ClassVar[str] = "correlation"

    def __post_init__(self) -> None:
        if len(self.scores) < 2:
            raise ValueError(f"a correlation figure needs at least two scores, got {list(self.scores)}")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        names, matrix = correlation_matrix({label: inputs.scores(label).mean for label in self.scores})
        path = plot_correlation_matrix(names, matrix, inputs.path(folder))
        rows = [[name, *(f"{v:.3f}" for v in row)] for name, row in zip(names, matrix)]
        what = "; ".join(f"{label}: {inputs.what(label)}" for label in self.scores)
        return Rendered([path], [Table("Spearman rank correlations", ["scores", *names], rows, what)])
