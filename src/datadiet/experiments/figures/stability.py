"""How many runs a score needs (paper 1, App. D.1, Fig. 9-10 left): agreement of k-run and R-run averages.

Settings (``type = "stability"``): ``scores`` (labels of static methods, each with its R runs) and ``orderings``:
1 compares the average of the first k runs with the average of all R, for k = 1..R (the paper's curve); more
draws that many random orders of the runs and shows their mean with a 16th-84th percentile band.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from datadiet.analysis import averaging_stability, averaging_stability_orderings, plot_averaging_stability
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table

__all__ = ["StabilityFigure"]


@dataclass(frozen=True)
class StabilityFigure(FigureType):
    """Spearman's rho between the k-run average and the all-run average of each named score set."""

    scores: tuple[str, ...]
    orderings: int = 1
    seed: int = 0
    type: ClassVar[str] = "stability"

    def __post_init__(self) -> None:
        if not self.scores or self.orderings < 1:
            raise ValueError(f"a stability figure needs scores and orderings >= 1, got {list(self.scores)} and "
                             f"{self.orderings}")

    def curves(self, runs: np.ndarray) -> np.ndarray:
        """The curve ``(R,)`` of raw runs ``(R, N)``, or the curves ``(orderings, R)`` of random orders."""
        if self.orderings == 1:
            return averaging_stability(runs)
        return averaging_stability_orderings(runs, orderings=self.orderings, seed=self.seed)

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        curves = {label: self.curves(inputs.scores(label).runs) for label in self.scores}
        path = plot_averaging_stability(curves, inputs.path(folder))
        longest = max(np.atleast_2d(c).shape[1] for c in curves.values())
        rows = [[str(k)] + [_cell(np.atleast_2d(c), k) for c in curves.values()] for k in range(1, longest + 1)]
        what = "; ".join(f"{label}: {inputs.what(label)}" for label in self.scores)
        return Rendered([path], [Table("Spearman's rho with the all-run average", ["runs averaged (k)", *curves],
                                       rows, what)])


def _cell(curves: np.ndarray, k: int) -> str:
    """Mean rho at k over the curves ``(P, R)`` ("-" beyond R)."""
    return f"{curves[:, k - 1].mean():.3f}" if k <= curves.shape[1] else "-"
