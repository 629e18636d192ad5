"""Static selection: arrays of scores in, sorted original-order positions out (no model needed).

Scores have shape ``(N,)``, higher = harder / more important, ``+inf`` allowed, NaN an error. Every rule returns
int64 positions sorted ascending; :func:`select` applies any rule by name (:data:`RULES`); see
:mod:`datadiet.selection.budget` for the rounding, tie and class-balance
conventions and :mod:`datadiet.selection.io` for subset files.
"""

from .ccs import ccs
from .io import Subset, load_subset, save_subset, subset_from_positions, subset_from_scores
from .registry import RULES, SelectionRule, get_rule, list_rules, select
from .rules import keep_highest, keep_lowest, random_subset, sliding_window

__all__ = [
    "RULES",
    "SelectionRule",
    "get_rule",
    "list_rules",
    "select",
    "keep_highest",
    "keep_lowest",
    "random_subset",
    "sliding_window",
    "ccs",
    "Subset",
    "subset_from_positions",
    "subset_from_scores",
    "save_subset",
    "load_subset",
]
