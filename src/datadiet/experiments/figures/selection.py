"""How often dynamic pruning selected each example (paper 2, Fig. 3, 7, 8b, 9b, 11), with the fitted mixture.

Settings (``type = "selection_counts"``): ``methods`` (labels of dynamic or always_sometimes methods; default
every dynamic method of the experiment), ``keep`` (the fractions shown; default all) and ``restarts`` of the
mixture fit. For each point (a method at a fraction, with every other setting fixed) the counts of its seeds are
pooled (upper bound U: checkpoints x seeds) and fitted with one to three normals truncated to [0, U], as a model
of the integer counts, the number chosen from the data (:mod:`datadiet.dynamic.mixture_fit`); one histogram per
point. The table gives each group's weight, mean count and examples ("-" for a group the fit does not have:
one binomial hump is a single "sometimes" group).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from datadiet.dynamic import plot_selection_counts
from datadiet.dynamic.truncated_mixture import NAMES
from datadiet.experiments.config import RunConfig
from datadiet.experiments.counts import PooledCounts, pooled_counts
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table, check_shown_methods

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method

__all__ = ["SelectionCountsFigure"]

_KINDS = ("dynamic", "always_sometimes")


@dataclass(frozen=True)
class SelectionCountsFigure(FigureType):
    """Histograms of the selection counts of dynamic runs, pooled over seeds, with the fitted never / sometimes /
    always mixture."""

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
            rows.append([p.series, keep, str(len(p.seeds)), str(pooled.upper), str(len(pooled.fit.names))]
                        + _group_cells(pooled))
        headers = (["method", "keep", "seeds", "upper", "components"]
                   + [f"{name}: weight / mean / examples" for name in NAMES])
        rendered.tables.append(Table("Fitted mixtures", headers, rows,
                                     "Counts pooled over seeds; each example belongs to the group of its component "
                                     "of highest posterior."))
        return rendered


def _group_cells(pooled: PooledCounts) -> list[str]:
    """``weight / mean count / examples`` of each named group; ``- / - / 0`` where the fit has no such group."""
    named, sizes = pooled.fit.by_group(), {name: len(members) for name, members in pooled.groups().items()}
    return [f"{named[name][0]:.2f} / {named[name][1]:.1f} / {sizes[name]}" if name in named else "- / - / 0"
            for name in NAMES]
