"""How often dynamic pruning selected each example (paper 2, Fig. 3, 7, 8b, 9b, 11), with the fitted mixture.

Settings (``type = "selection_counts"``): ``methods`` (labels of dynamic or always_sometimes methods; default
every dynamic method of the experiment), ``keep`` (the fractions shown; default all) and ``restarts`` of the
mixture fit. For each point (a method at a fraction, with every other setting fixed) the counts of its seeds are
pooled (upper bound: checkpoints x seeds) and fitted with three normals truncated to [0, upper]; one histogram
per point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from datadiet.dynamic import plot_selection_counts
from datadiet.dynamic.truncated_mixture import NAMES
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import pooled_counts
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table, check_shown_methods

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method

__all__ = ["SelectionCountsFigure"]

_KINDS = ("dynamic", "always_sometimes")


@dataclass(frozen=True)
class SelectionCountsFigure(FigureType):
    """Histograms of the selection counts of dynamic runs, pooled over seeds, with the always / sometimes /
    never mixture."""

    methods: tuple[str, ...] = ()
    keep: tuple[float, ...] = ()
    restarts: int = 8
    type: ClassVar[str] = "selection_counts"

    def __post_init__(self) -> None:
        if self.restarts < 1:
            raise ValueError(f"restarts must be at least 1, got {self.restarts}")

    def check(self, where: str, runs: tuple[RunConfig, ...], methods: dict[str, list[Method]]) -> None:
        """The methods must be dynamic methods that some run uses."""
        check_shown_methods(where, self.methods, runs, _KINDS, "dynamic")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        kinds = _KINDS if self.methods else ("dynamic",)
        points = [p for p in inputs.results.points("pruned", self.methods) if p.kind in kinds
                  and (not self.keep or p.keep in self.keep)]
        if not points:
            return Rendered(notes=["no dynamic run of this figure has finished yet"])
        rendered = Rendered()
        rows = []
        for i, p in enumerate(points):
            pooled = pooled_counts([inputs.run_dir(r) for r in p.run_ids], restarts=self.restarts)
            keep = "-" if p.keep is None else f"{p.keep:g}"
            title = f"{p.series}, keep {keep}: {len(p.seeds)} seeds, {pooled.upper} checkpoints in all"
            rendered.images.append(plot_selection_counts(pooled.counts, pooled.fit, inputs.path(folder, str(i)),
                                                         title=title))
            sizes = {name: len(members) for name, members in pooled.groups().items()}
            expected = pooled.fit.expected_counts
            rows.append([p.series, keep, str(len(p.seeds)), str(pooled.upper)]
                        + [f"{pooled.fit.weights[k]:.2f} / {expected[k]:.1f} / {sizes[name]}"
                           for k, name in enumerate(NAMES)])
        headers = ["method", "keep", "seeds", "upper"] + [f"{name}: weight / mean / examples" for name in NAMES]
        rendered.tables.append(Table("Fitted mixtures", headers, rows,
                                     "Counts pooled over seeds; each example belongs to the component of highest "
                                     "posterior."))
        return rendered
