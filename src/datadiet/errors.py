"""Exceptions of the library that are not ``ValueError`` / ``FileNotFoundError`` (importing this loads no torch)."""

from __future__ import annotations

__all__ = ["TrainingDiverged"]


class TrainingDiverged(FloatingPointError):
    """The weights became NaN or infinite: the run stops, rather than report the accuracy of a dead network."""
