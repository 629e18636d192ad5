"""Cost accounting of a training run: wall-clock time and examples processed."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunCost"]


@dataclass
class RunCost:
    """Cost accounting of a run: wall-clock split into training and scoring, and samples processed."""

    train_seconds: float = 0.0
    scoring_seconds: float = 0.0
    eval_seconds: float = 0.0
    samples_forward: int = 0
    samples_backward: int = 0
    scoring_forward: int = 0
    notes: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Training plus scoring; evaluation on the test set is reported apart."""
        return self.train_seconds + self.scoring_seconds

    def as_dict(self) -> dict:
        return {
            "train_seconds": self.train_seconds, "scoring_seconds": self.scoring_seconds,
            "eval_seconds": self.eval_seconds, "total_seconds": self.total_seconds,
            "samples_forward": self.samples_forward, "samples_backward": self.samples_backward,
            "scoring_forward": self.scoring_forward, **self.notes,
        }
