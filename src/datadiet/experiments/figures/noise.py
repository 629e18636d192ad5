"""Scores of mislabeled and clean examples (paper 1, Sec. 4, Fig. 14): histograms and detection numbers.

Settings (``type = "noise"``): ``scores`` (labels of static methods) and ``bins``. The recipe's ``[base]`` data
must have label noise. Detection (ROC AUC, precision and recall at the noise rate) is reported against the
examples chosen for noise and against those whose label actually changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from datadiet.analysis import noise_detection, plot_noise_histograms
from datadiet.experiments.config import DataConfig
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table

__all__ = ["NoiseFigure"]

_COLUMNS = ("auc", "precision", "recall", "auc_changed", "precision_changed", "recall_changed")


@dataclass(frozen=True)
class NoiseFigure(FigureType):
    """One histogram of clean against noisy examples per named score set, and a table of detection numbers."""

    scores: tuple[str, ...]
    bins: int = 50
    type: ClassVar[str] = "noise"

    def __post_init__(self) -> None:
        if not self.scores or self.bins < 1:
            raise ValueError(f"a noise figure needs scores and bins >= 1, got {list(self.scores)} and {self.bins}")

    def check_data(self, where: str, data: DataConfig) -> None:
        """The scores are computed on the [base] data, which must have label noise."""
        if data.options.label_noise == 0:
            raise ValueError(f"{where}: the [base] data has no label noise; set data.label_noise (e.g. 0.1)")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        rendered = Rendered()
        rows = []
        for label in self.scores:
            scores = inputs.scores(label)
            if scores.noise_mask is None:
                raise ValueError(f"scores {label!r} ({inputs.what(label)}) record no noisy labels: they were not "
                                 "computed on data with label noise")
            changed = scores.noise_mask & (scores.labels != scores.clean_labels)
            found = noise_detection(scores.mean, scores.noise_mask, changed_mask=changed)
            rendered.images.append(plot_noise_histograms(
                scores.mean, scores.noise_mask, inputs.path(folder, label), bins=self.bins, score_name=label,
                title=f"{label} ({inputs.what(label)})"))
            rows.append([label, f"{found['noise_rate']:.3f}", str(found["num_changed"]),
                         *(f"{found[c]:.3f}" for c in _COLUMNS)])
        note = ("Precision and recall among the highest-scored examples, as many as were chosen for noise; "
                "'changed': against the examples whose label the permutation actually changed.")
        rendered.tables.append(Table("Detection of mislabeled examples", ["scores", "noise rate", "changed",
                                                                          *_COLUMNS], rows, note))
        return rendered
