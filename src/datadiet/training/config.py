"""Training configuration: the papers' SGD recipe, every field overridable."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

__all__ = ["TrainConfig", "PRECISIONS"]

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    """How to train one network.

    Exactly one budget is set: ``epochs`` (passes over the training subset: paper 2's protocol, pruning saves
    time) or ``steps`` (optimizer steps whatever the subset size: paper 1's protocol). The learning rate is
    multiplied by ``lr_gamma`` at each fraction of the budget in ``lr_milestones`` (the papers: x0.2 at epochs
    60, 120 and 160 of 200). ``stop_at`` ends the run early, in the budget's unit, without changing the schedule
    (scores "at epoch t" come from runs of the full schedule stopped at t). ``eval_batch_size`` None takes the
    device's default for forward passes (:func:`datadiet.inference.forward_batch_size`).
    """

    epochs: int | None = None
    steps: int | None = None
    stop_at: int | None = None
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    lr_milestones: tuple[float, ...] = (0.3, 0.6, 0.8)
    lr_gamma: float = 0.2
    seed: int = 0
    augment: str | None = None
    eval_every: int = 1
    eval_batch_size: int | None = None
    precision: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        if (self.epochs is None) == (self.steps is None):
            raise ValueError("set exactly one budget: epochs or steps")
        budget = self.epochs if self.epochs is not None else self.steps
        assert budget is not None  # exactly one of them is set (checked above)
        if budget <= 0:
            raise ValueError(f"the budget must be positive, got {self.budget_unit}={budget}")
        if self.stop_at is not None and not 0 <= self.stop_at <= budget:
            raise ValueError(f"stop_at must be in [0, {budget}] {self.budget_unit}, got {self.stop_at}")
        for name in ("batch_size", "eval_batch_size", "eval_every"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        numbers = {name: getattr(self, name) for name in ("lr", "weight_decay", "momentum", "lr_gamma")}
        not_finite = [f"{name} = {value}" for name, value in numbers.items() if not math.isfinite(value)]
        if not_finite:
            raise ValueError(f"training options must be finite numbers, got {', '.join(not_finite)}")
        if self.lr <= 0 or self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise ValueError("need lr > 0, weight_decay >= 0 and momentum in [0, 1)")
        if any(not 0 < m < 1 for m in self.lr_milestones):
            raise ValueError(f"lr_milestones are fractions of the budget in (0, 1), got {self.lr_milestones}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")

    @property
    def budget_unit(self) -> str:
        return "epochs" if self.epochs is not None else "steps"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a mapping; unknown keys are an error that lists the valid ones."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; valid: {', '.join(sorted(valid))}")
        values = dict(values)
        if "lr_milestones" in values:
            values["lr_milestones"] = tuple(values["lr_milestones"])
        return cls(**values)
