"""``dynamic``: a :class:`~datadiet.dynamic.DynamicPruner` re-selecting the subset during training (paper 2).

The policy (``random``, ``uncertainty``, ``uncertainty-ema``, ``egreedy``, ``ucb``, ``infobatch``, or one on
static scores: ``static-egreedy``, ``static-ucb``, ``static-topk``) re-selects every ``period`` epochs; its
hyper-parameters (``alpha``, ``eps``, ``c``, ``r``, ...) sit beside the pruner's options in the recipe's table.

``init_from = "LABEL"`` names a static method whose scores the policy uses, and the run pays for them:

- a policy ranking by training losses **starts** from them (a warm start: they are its first observation, with
  variance 0, and the scoring passes of the later checkpoints update them);
- a policy on static scores ranks by **them alone** at every checkpoint, by the runs' scores ``(R, N)`` (paper 2,
  App. B, Fig. 15: "EL2N + epsilon-greedy" is ``static-egreedy``, "EL2N + UCB" is ``static-ucb``, mean + c x the
  variance over runs); it uses no training loss and needs no scoring pass (see
  :mod:`datadiet.dynamic.policies`).

The pruner runs as a trainer callback. Every dynamic run keeps its per-example selection counts
(``selection_counts.npy`` in its folder, see :mod:`datadiet.experiments.counts`), and one ranking by training
losses keeps the scores of its latest checkpoint (:mod:`datadiet.experiments.checkpoint_scores`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from datadiet.data import Splits
from datadiet.dynamic import POLICIES, DynamicPruner, Policy, make_policy
from datadiet.dynamic.policies import STATIC_POLICIES, make_static_policy
from datadiet.experiments.checkpoint_scores import CheckpointScoresCallback, ranks_by_losses
from datadiet.experiments.config import IF_SET, RunConfig
from datadiet.experiments.estimate import FORWARD_PASS
from datadiet.experiments.kinds.base import MethodParams, Plan, PlanContext, epoch_budget, run_scores
from datadiet.experiments.kinds.static import StaticParams
from datadiet.experiments.values import build, check_keys, field_values
from datadiet.scores import get_score
from datadiet.dynamic.scoring import check_score_precision, check_score_source
from datadiet.training.dynamic_pruning import DynamicPruningCallback

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method

__all__ = ["DynamicParams", "named_policy", "pruned_epochs", "with_pruner"]


def _policy_class(name: str) -> type[Policy]:
    """The class of the policy called ``name``: one of the registry's, or one on static scores."""
    if name in STATIC_POLICIES:
        return STATIC_POLICIES[name]
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; valid: {', '.join([*POLICIES, *STATIC_POLICIES])}")
    return POLICIES[name]


def named_policy(name: str, options: dict, num_examples: int = 1, scores: Any = None) -> Policy:
    """The policy ``name`` with hyper-parameters ``options``. One on static scores ranks by ``scores`` ``(R, N)``;
    without them (to check its options and a schedule) by zeros of ``num_examples`` examples."""
    if name not in STATIC_POLICIES:
        return make_policy(name, options)
    return make_static_policy(name, torch.zeros(num_examples) if scores is None else scores, options)


@dataclass(frozen=True)
class DynamicParams(MethodParams):
    """A dynamic pruning policy and the pruner's schedule; ``options`` are the policy's hyper-parameters.

    ``class_balanced`` and ``warmup_epochs`` default to the policy's (InfoBatch: no warm-up; the others: one
    epoch); ``options`` are completed with the policy's defaults, so the stored configuration is the one that
    ran. ``init_from`` names a static method whose scores
    (``init_scores``, filled in from the recipe) are the pruner's first observation for a policy ranking by
    training losses (with no warm-up they make the first selection, in place of the untrained model's scoring
    pass), or all that a policy on static scores ranks by (it needs them).
    """

    policy: str
    period: int = 1
    warmup_epochs: int | None = None
    class_balanced: bool | None = None
    final_full_epochs: int | None = None
    score_source: str = "pass"
    score_precision: str = field(default="fp32", metadata=IF_SET)
    init_from: str | None = None
    options: dict = field(default_factory=dict)
    init_scores: StaticParams | None = field(default=None, init=False)
    reference_kind: ClassVar[str] = "static"

    def __post_init__(self) -> None:
        policy = named_policy(self.policy, self.options)
        object.__setattr__(self, "options", policy.options())
        if self.warmup_epochs is None:
            object.__setattr__(self, "warmup_epochs", policy.default_warmup_epochs)
        if self.class_balanced is None:
            object.__setattr__(self, "class_balanced", policy.class_balanced_ok)
        check_score_source(self.score_source)
        check_score_precision(self.score_precision)
        if self.on_static_scores and self.init_from is None:
            raise ValueError(f"policy {self.policy!r} ranks by static scores: name their static method with "
                             "init_from = \"LABEL\"")
        if self.init_from is not None and not (policy.needs_scores or self.on_static_scores):
            raise ValueError(f"init_from: policy {self.policy!r} uses no scores to start from")

    @classmethod
    def from_table(cls, table: dict, where: str) -> DynamicParams:
        """Split a flat recipe table into the pruner's options and the policy's hyper-parameters."""
        if "policy" not in table:
            raise ValueError(f"{where} needs 'policy'")
        policy_class = _policy_class(table["policy"])
        assert dataclasses.is_dataclass(policy_class)  # every policy is a frozen dataclass
        policy_fields = [f.name for f in dataclasses.fields(policy_class) if f.name != "scores"]
        pruner_fields = [f.name for f in dataclasses.fields(cls) if f.init and f.name != "options"]
        check_keys(table, [*pruner_fields, *policy_fields], where)
        options = field_values(policy_class, {k: v for k, v in table.items() if k in policy_fields}, where)
        params = build(cls, {k: v for k, v in table.items() if k in pruner_fields}, where)
        return dataclasses.replace(params, options=options)

    @property
    def uses_keep(self) -> bool:
        return _policy_class(self.policy).fixed_budget

    @property
    def ranks_by_losses(self) -> bool:
        """Whether the policy ranks the examples by a priority computed from training losses."""
        return ranks_by_losses(named_policy(self.policy, self.options))

    @property
    def on_static_scores(self) -> bool:
        """Whether the policy ranks by static scores alone (those of ``init_from``)."""
        return self.policy in STATIC_POLICIES

    def check(self, run: RunConfig) -> None:
        """Dynamic runs train a number of epochs; the schedule must fit in them."""
        epoch_budget(run, "dynamic pruning")
        if self.init_from is not None and self.init_scores is None:
            raise ValueError(f"init_from = {self.init_from!r} is not resolved: define it in the recipe's [methods]")
        if self.init_scores is not None:
            self.init_scores.check(run)
        self.pruner(1000, keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=None)

    def static_scores(self) -> StaticParams | None:
        return self.init_scores

    def reference(self) -> str | None:
        return self.init_from

    def resolved(self, target: Method) -> DynamicParams:
        if get_score(target.params.score).kind == "training":
            raise ValueError(f"init_from = {target.label!r}: a dynamic policy starts from finite scores, not "
                             f"{target.params.score!r} (+inf for never-learned examples)")
        out = copy.copy(self)
        object.__setattr__(out, "init_scores", target.params)
        return out

    def pruner(self, num_examples: int, *, keep: float | None, seed: int, epochs: int, labels: Any,
               policy: Policy | None = None) -> DynamicPruner:
        """The pruner of a run (class balance needs ``labels``; without them it is switched off).

        ``policy`` replaces the named policy by a policy object (the schedule stays this method's); without it a
        policy on static scores ranks by placeholder zeros (to check the schedule).
        """
        return DynamicPruner(
            num_examples, policy=policy or named_policy(self.policy, self.options, num_examples), keep=keep,
            period=self.period, seed=seed, epochs=epochs, labels=labels,
            class_balanced=self.class_balanced and labels is not None,
            warmup_epochs=self.warmup_epochs, final_full_epochs=self.final_full_epochs,
        )

    def plan(self, run: RunConfig, splits: Splits, context: PlanContext) -> Plan:
        """The pruner as a trainer callback: on the static scores of ``init_from``, or started from them."""
        train = splits.train
        if self.init_scores is None:
            pruner = self.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=train.y)
            return with_pruner(Plan(), pruner, self, splits, context)
        scores, plan = run_scores(run, splits, context)
        policy = named_policy(self.policy, self.options, scores=scores.runs) if self.on_static_scores else None
        pruner = self.pruner(len(train), keep=run.keep, seed=run.seed, epochs=run.train_epochs, labels=train.y,
                             policy=policy)
        if policy is None:
            pruner.start_from(scores.mean)
        return with_pruner(plan, pruner, self, splits, context)

    def estimated_epochs(self, run: RunConfig) -> float:
        share = {"pass": 1.0, "batch": 0.0, "stale": 1.0 - (run.keep or 0.0)}[self.score_source]
        return pruned_epochs(self, run, pass_share=share)


def with_pruner(plan: Plan, pruner: DynamicPruner, params: DynamicParams, splits: Splits,
                context: PlanContext) -> Plan:
    """``plan`` with ``pruner`` as its trainer callback (scores from ``params``' source, in its precision) and its
    counts to keep, and, if it ranks by training losses, the callback keeping its checkpoint scores."""
    plan.callbacks = [DynamicPruningCallback(pruner, splits.train, score_source=params.score_source,
                                             score_precision=params.score_precision, device=context.device)]
    if ranks_by_losses(pruner.policy):
        plan.callbacks.append(CheckpointScoresCallback(pruner, context.run_dir))
    plan.pruner = pruner
    return plan


def pruned_epochs(params: DynamicParams, run: RunConfig, *, pass_share: float) -> float:
    """Estimated full-data epochs of a run on ``params``' schedule: its full-data epochs, ``keep`` per pruned
    epoch (InfoBatch, which sets no size: ``1 - r / 2``), and a scoring pass at each checkpoint over ``pass_share``
    of the examples (1 for a full pass, ``1 - keep`` for the stale ones, 0 for none)."""
    epochs = run.train_epochs
    pruner = params.pruner(1000, keep=run.keep, seed=0, epochs=epochs, labels=None)
    fraction = run.keep if run.keep is not None else 1 - params.options["r"] / 2
    schedule = pruner.schedule
    full = sum(schedule.is_full(e) for e in range(epochs))
    count = len(schedule.checkpoints()) if pass_share and pruner.policy.needs_scores else 0
    if count and params.init_scores is not None and schedule.warmup_epochs == 0:
        count -= 1
    return full + (epochs - full) * fraction + count * FORWARD_PASS * pass_share
