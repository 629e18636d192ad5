"""Checkpoints for exact resume.

A checkpoint is written atomically at the end of every epoch (see :mod:`datadiet.files`). It loads with
``torch.load(..., weights_only=True)``: tensors, numbers, strings, lists and dicts only.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from datadiet.files import atomic_write, check_input_file

__all__ = ["save_checkpoint", "load_checkpoint"]

_KEYS = ("identity", "model", "optimizer", "epoch", "step", "history", "cost", "callbacks", "scaler")
"""What a training state holds (see ``datadiet.training.trainer``)."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save a training state atomically."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> dict:
    """Load a training state without unpickling arbitrary objects; ``ValueError`` naming ``path`` if the file is
    damaged or not a training state."""
    path = check_input_file(path, "checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"checkpoint {path} is damaged or not a datadiet checkpoint ({reason}); delete it to "
                         "start the run over") from None
    missing = [key for key in _KEYS if key not in state] if isinstance(state, dict) else list(_KEYS)
    if missing:
        raise ValueError(f"checkpoint {path} is not a datadiet training state (it lacks {', '.join(missing)}); "
                         "delete it to start the run over")
    return state
