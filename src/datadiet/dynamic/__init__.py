"""Dynamic data pruning: re-select the training subset during training (Raju, Daruwalla & Lipasti; InfoBatch).

The :class:`DynamicPruner` is a ``torch.utils.data.Sampler`` fed explicit losses (``score_all`` from a
:func:`scoring_pass`, or ``update`` from training batches);
:class:`datadiet.training.DynamicPruningCallback` plugs it into datadiet's trainer. See README.md in this folder
for the method card.
"""

from datadiet.dynamic.always_sometimes import AlwaysPlusSometimes
from datadiet.dynamic.base import Policy, Selection
from datadiet.dynamic.infobatch import InfoBatch, infobatch_prune
from datadiet.dynamic.policies import (
    UCB, EpsilonGreedy, RandomDynamic, StaticEpsilonGreedy, StaticTopK, StaticUCB, Uncertainty, UncertaintyEMA,
)
from datadiet.dynamic.pruner import PAPER_OPTIONS, DynamicPruner
from datadiet.dynamic.registry import POLICIES, make_policy
from datadiet.dynamic.schedule import PruningSchedule
from datadiet.dynamic.scoring import enter_epoch, scoring_pass
from datadiet.dynamic.selection_counts import (
    SelectionMixture,
    fit_selection_mixture,
    plot_selection_counts,
    pool_counts,
)
from datadiet.dynamic.tracker import LossTracker

__all__ = [
    "AlwaysPlusSometimes", "DynamicPruner", "EpsilonGreedy", "InfoBatch", "LossTracker",
    "PAPER_OPTIONS", "POLICIES", "Policy", "PruningSchedule", "RandomDynamic", "Selection", "SelectionMixture",
    "StaticEpsilonGreedy", "StaticTopK", "StaticUCB", "UCB", "Uncertainty", "UncertaintyEMA", "enter_epoch",
    "fit_selection_mixture", "infobatch_prune", "make_policy",
    "plot_selection_counts", "pool_counts", "scoring_pass",
]
