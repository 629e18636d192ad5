"""The lowest- and highest-scored training images of each class (paper 1, Fig. 5-8), for image datasets.

Settings (``type = "gallery"``): ``scores`` (labels of static methods), ``count`` (images at each end per
class) and ``classes`` (class numbers shown; default all). One image grid per score set: a row per class, the
``count`` lowest-scored images on the left, the ``count`` highest on the right (ranks by the mean over runs,
ties by position, as in :mod:`datadiet.selection`). Inputs are shown un-normalized with the training split's
mean and standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from matplotlib.figure import Figure

from datadiet.analysis.plotting import save_figure
from datadiet.data.dataset import IndexedDataset
from datadiet.experiments.figures.base import FigureInputs, FigureType, Rendered, Table

__all__ = ["GalleryFigure", "extremes", "pixels"]


@dataclass(frozen=True)
class GalleryFigure(FigureType):
    """Per class, the ``count`` lowest- and highest-scored images of each named score set."""

    scores: tuple[str, ...]
    count: int = 8
    classes: tuple[int, ...] = ()
    type: ClassVar[str] = "gallery"
    needs_data: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not self.scores or self.count < 1 or any(c < 0 for c in self.classes):
            raise ValueError(f"a gallery needs scores, count >= 1 and class numbers >= 0, got {list(self.scores)}, "
                             f"{self.count} and {list(self.classes)}")

    def render(self, inputs: FigureInputs, folder: Path) -> Rendered:
        data = inputs.train_data()
        images = pixels(data)
        classes = self.classes or tuple(range(data.num_classes))
        if max(classes) >= data.num_classes:
            raise ValueError(f"gallery classes must be below {data.num_classes}, got {list(classes)}")
        rendered = Rendered()
        for label in self.scores:
            scores = inputs.scores(label)
            scores.check_against(data)
            chosen = {c: extremes(scores.mean, data.y.numpy(), c, self.count) for c in classes}
            rendered.images.append(_grid(images, data, chosen, inputs.path(folder, label),
                                         f"{label} ({inputs.what(label)}): lowest | highest"))
            rows = [[_name(data, c), " ".join(map(str, data.index.numpy()[low])),
                     " ".join(map(str, data.index.numpy()[high]))] for c, (low, high) in chosen.items()]
            rendered.tables.append(Table(f"{label}: original indices shown", ["class", "lowest", "highest"], rows))
        return rendered


def pixels(data: IndexedDataset) -> np.ndarray:
    """Un-normalized images ``(N, H, W, C)`` in [0, 1]; ``ValueError`` for data that are not images.

    8-bit images come back in [0, 1]; inputs in other units (scikit-learn's digits: 0..16) are rescaled by
    their range.
    """
    if data.x.dim() != 4 or data.x.shape[1] not in (1, 3):
        raise ValueError(f"galleries show images (N, 1 or 3, H, W); {data.name} has inputs of shape "
                         f"{tuple(data.x.shape)}")
    shape = (1, -1, 1, 1)
    mean = torch.tensor(data.meta.get("mean", [0.0] * data.x.shape[1])).view(shape)
    std = torch.tensor(data.meta.get("std", [1.0] * data.x.shape[1])).view(shape)
    x = data.x * std + mean
    low, high = float(x.min()), float(x.max())
    if low < -1e-3 or high > 1 + 1e-3:
        x = (x - low) / max(high - low, 1e-12)
    return x.clamp(0, 1).permute(0, 2, 3, 1).numpy()


def extremes(scores: np.ndarray, labels: np.ndarray, c: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ``count`` lowest- and highest-scored examples of class ``c``, lowest and highest first."""
    members = np.flatnonzero(labels == c)
    ranked = members[np.argsort(scores[members], kind="stable")]
    return ranked[:count], ranked[::-1][:count]


def _name(data: IndexedDataset, c: int) -> str:
    return data.classes[c] if c < len(data.classes) else str(c)


def _grid(images: np.ndarray, data: IndexedDataset, chosen: dict, path: Path, title: str) -> Path:
    count = max(max(len(low), len(high)) for low, high in chosen.values())
    figure = Figure(figsize=(0.7 * (2 * count + 1) + 1.2, 0.75 * len(chosen) + 0.6), layout="constrained")
    axes = figure.subplots(len(chosen), 2 * count + 1, squeeze=False)
    grey = images.shape[-1] == 1
    for row, (c, (low, high)) in zip(axes, chosen.items()):
        cells = [*low, *([None] * (count - len(low))), None, *([None] * (count - len(high))), *high[::-1]]
        for ax, position in zip(row, cells):
            ax.set_axis_off()
            if position is not None:
                ax.imshow(images[position][..., 0] if grey else images[position], cmap="gray" if grey else None,
                          vmin=0, vmax=1)
        row[0].set_axis_on()
        row[0].set_xticks([])
        row[0].set_yticks([])
        for spine in row[0].spines.values():
            spine.set_visible(False)
        row[0].set_ylabel(_name(data, c), rotation=0, ha="right", va="center", fontsize="small")
    figure.suptitle(title, fontsize="medium")
    return save_figure(figure, path, dpi=100)
