"""Figure helpers shared by the analyses: figures drawn off-screen, without touching pyplot's global state.

Figures are plain :class:`matplotlib.figure.Figure` objects saved through the Agg renderer, so plotting works on
headless machines and never changes the backend of a user's session or notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure"]


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
