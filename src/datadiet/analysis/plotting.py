"""Figure helpers shared by the analyses: figures drawn off-screen, without touching pyplot's global state.

Figures are plain :class:`matplotlib.figure.Figure` objects saved through the Agg renderer, so plotting works on
headless machines and never changes the backend of a user's session or notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

__all__ = ["band_line", "new_figure", "save_figure"]


def new_figure(width: float = 5.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """A figure of ``width x height`` inches with one axes, laid out to keep labels readable."""
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def save_figure(figure: Figure, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Save ``figure`` to ``path`` (format from the suffix, e.g. ``.png`` or ``.pdf``), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path


def band_line(ax: Axes, x: ArrayLike, values: ArrayLike, **style) -> None:
    """Plot ``values`` against ``x``: a line for ``(n,)``, or the mean line and a 16th-84th percentile band over
    the rows of ``(R, n)`` (R independent repetitions; no band for R = 1). ``style`` goes to the line."""
    x = np.asarray(x)
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if v.ndim != 2 or v.shape[1] != len(x):
        raise ValueError(f"values must have shape ({len(x)},) or (R, {len(x)}), got {np.shape(values)}")
    (line,) = ax.plot(x, v.mean(0), **style)
    if len(v) > 1:
        low, high = np.percentile(v, [16, 84], axis=0)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
