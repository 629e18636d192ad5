"""Method kinds, one module each: its parameters, what its run trains on (or analyses) and its estimated cost.

- :mod:`~.full`: all the data; :mod:`~.random`: a static random subset; :mod:`~.static`: scores then a
  selection rule (paper 1); :mod:`~.dynamic`: a dynamic pruner (paper 2); :mod:`~.always_sometimes`: paper 2's
  Table 1; the analyses :mod:`~.velocity` and :mod:`~.barrier` (paper 1, Fig. 3 and 4).

:data:`METHOD_KINDS` maps a recipe's ``kind`` to its parameters class (see :mod:`~.base` for what a kind answers). A
new kind is one module here and one line in :data:`METHOD_KINDS`.
"""

from datadiet.experiments.kinds.always_sometimes import AlwaysSometimesParams
from datadiet.experiments.kinds.barrier import BarrierParams
from datadiet.experiments.kinds.base import AnalysisParams, MethodParams, Plan, PlanContext
from datadiet.experiments.kinds.dynamic import DynamicParams
from datadiet.experiments.kinds.full import FullParams
from datadiet.experiments.kinds.random import RandomParams
from datadiet.experiments.kinds.static import StaticParams
from datadiet.experiments.kinds.velocity import VelocityParams

__all__ = [
    "ANALYSIS_KINDS", "METHOD_KINDS", "AlwaysSometimesParams", "AnalysisParams", "BarrierParams",
    "DynamicParams", "FullParams", "MethodParams", "Plan", "PlanContext", "RandomParams", "StaticParams",
    "VelocityParams",
]

METHOD_KINDS: dict[str, type[MethodParams]] = {
    "full": FullParams, "random": RandomParams, "static": StaticParams, "dynamic": DynamicParams,
    "always_sometimes": AlwaysSometimesParams, "velocity": VelocityParams, "barrier": BarrierParams,
}
ANALYSIS_KINDS = tuple(kind for kind, params in METHOD_KINDS.items() if params.analysis)
"""The kinds whose runs analyse training dynamics rather than train on a subset (no test accuracy)."""
