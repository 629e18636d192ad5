"""Static selection: scores and/or embeddings in, sorted original-order positions out (no model needed).

Scores have shape ``(N,)``, higher = harder / more important, ``+inf`` allowed, NaN an error; embeddings have
shape ``(N, D)`` (:func:`embed` computes them from a model). Every rule returns int64 positions sorted ascending;
:func:`select` applies any rule by name (:data:`RULES`); see :mod:`datadiet.selection.budget` for the rounding,
tie and class-balance conventions, :mod:`datadiet.selection.geometry` for distances and memory,
:mod:`datadiet.selection.io` for subset files and :mod:`datadiet.selection.embedding_file` for embedding files.
:func:`embed` needs torch and is imported on first use.
"""

from typing import Any

from .ccs import ccs
from .d2 import d2
from .embedding_file import load_embeddings, save_embeddings
from .facility_location import facility_location
from .herding import herding
from .io import Subset, load_subset, save_subset, subset_from_positions, subset_from_scores
from .kcenter import kcenter
from .moderate import moderate
from .prototypes import prototypes
from .registry import RULES, SelectionRule, get_rule, list_rules, select
from .rules import keep_highest, keep_lowest, random_subset, sliding_window

__all__ = [
    "RULES",
    "SelectionRule",
    "get_rule",
    "list_rules",
    "select",
    "embed",
    "save_embeddings",
    "load_embeddings",
    "keep_highest",
    "keep_lowest",
    "random_subset",
    "sliding_window",
    "ccs",
    "kcenter",
    "herding",
    "facility_location",
    "d2",
    "prototypes",
    "moderate",
    "Subset",
    "subset_from_positions",
    "subset_from_scores",
    "save_subset",
    "load_subset",
]


def __getattr__(name: str) -> Any:
    if name == "embed":
        from .features import embed

        return embed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
