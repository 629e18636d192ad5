"""Checkpoints for exact resume.

A checkpoint is written atomically at the end of every epoch (see :mod:`datadiet.files`). It loads with
``torch.load(..., weights_only=True)``: tensors, numbers, strings, lists and dicts only.
"""

from __future__ import annotations

from pathlib import Path

import torch

from datadiet.files import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save a training state atomically."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> dict:
    """Load a training state without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)
