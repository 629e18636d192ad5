"""The user's code in a recipe: a function named by import path, ``"package.module:function"``.

A recipe's model table may name a ``factory`` and its data table a ``loader`` (see
:mod:`datadiet.experiments.config`):

- ``factory(num_classes=K, input_shape=(C, H, W) or (C, L), **options)`` returns a ``torch.nn.Module`` (called
  after ``torch.manual_seed(seed)``, so its initialization is the run's);
- ``loader(**options)`` returns ``(train, test)``, each an :class:`~datadiet.data.IndexedDataset` or a map-style
  torch ``Dataset`` of ``(x, y)`` pairs (gathered in memory by :func:`~datadiet.data.from_torch_dataset`, inputs
  as the dataset returns them), or a :class:`~datadiet.data.Splits`.

The module is imported as ``python -m`` would import it from the current folder (the current folder is put on
the module search path), so a ``mymodels.py`` beside the command works as well as an installed package. Every
error is a one-line ``ValueError`` naming the path and what is valid.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from datadiet.data import IndexedDataset, Splits, from_torch_dataset

__all__ = ["build_model", "check_call", "load_data", "resolve"]

_FORM = '"package.module:function"'


def resolve(path: Any, where: str) -> Callable:
    """The callable ``path`` names; ``where`` (``"model.factory"``) says which recipe key held it."""
    if not isinstance(path, str) or path.count(":") != 1 or not all(path.split(":")):
        raise ValueError(f"{where} = {path!r} is not an import path; write it as {_FORM}")
    module_name, attribute = path.split(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the user's module may fail in any way while it is imported
        raise ValueError(f"{where} = {path!r}: cannot import module {module_name!r} ({type(error).__name__}: "
                         f"{error}); it must be installed or lie in the current folder") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{where} = {path!r}: {module_name!r} has no attribute {attribute!r}; its functions: "
                             f"{', '.join(_functions(module)) or 'none'}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{where} = {path!r} is a {type(target).__name__}, not a function or class")
    return target


def check_call(function: Callable, path: str, where: str, **kwargs: Any) -> None:
    """Raise ``ValueError`` if ``function`` cannot be called with ``kwargs`` (a signature that cannot be read
    passes)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(**kwargs)
    except TypeError as error:
        call = ", ".join(f"{k}=..." for k in kwargs)
        raise ValueError(f"{where} = {path!r} cannot be called as {path.split(':')[1]}({call}): {error}") from None


def build_model(path: str, options: dict, num_classes: int, input_shape: tuple[int, ...]) -> nn.Module:
    """The network of the factory ``path`` for ``num_classes`` classes and examples of ``input_shape``."""
    model = resolve(path, "model.factory")(num_classes=num_classes, input_shape=input_shape, **options)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model.factory = {path!r} returned {_what(model)}; it must return a torch.nn.Module")
    return model


def load_data(path: str, options: dict) -> Splits:
    """The splits the loader ``path`` returns for ``options``, gathered as :class:`IndexedDataset` s."""
    result = resolve(path, "data.loader")(**options)
    if not isinstance(result, tuple) or len(result) not in (2, 3) or (len(result) == 3) != isinstance(result, Splits):
        raise ValueError(f"data.loader = {path!r} returned {_what(result)}; it must return (train, test) or a "
                         "datadiet.data.Splits")
    name = path.split(":")[1]
    train = _indexed(result[0], path, f"{name}:train", None)
    test = _indexed(result[1], path, f"{name}:test", train.num_classes)
    val = None if len(result) == 2 or result[2] is None else _indexed(result[2], path, f"{name}:val", train.num_classes)
    for split, which in ((test, "test"), (val, "val")):
        if split is not None and split.input_shape != train.input_shape:
            raise ValueError(f"data.loader = {path!r}: {which} examples have shape {split.input_shape}, train "
                             f"examples {train.input_shape}")
    return Splits(train, test, val)


def _indexed(data: Any, path: str, name: str, num_classes: int | None) -> IndexedDataset:
    """``data`` as an IndexedDataset of ``num_classes`` classes (None: its own), gathered if a torch Dataset."""
    if not isinstance(data, IndexedDataset):
        if not isinstance(data, torch.utils.data.Dataset) or not hasattr(data, "__len__"):
            raise ValueError(f"data.loader = {path!r}: {name.split(':')[1]} is {_what(data)}; valid: a "
                             "datadiet.data.IndexedDataset or a map-style torch Dataset of (x, y) pairs")
        data = from_torch_dataset(data, num_classes, name=name)
    if num_classes is not None and data.num_classes != num_classes:
        raise ValueError(f"data.loader = {path!r}: {name.split(':')[1]} has {data.num_classes} classes, train "
                         f"{num_classes}")
    return data


def _what(value: Any) -> str:
    """A short description of a value, for error messages."""
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(type(v).__name__ for v in value)})"
    return f"a {type(value).__name__}"


def _functions(module: Any) -> list[str]:
    """Public functions and classes defined in ``module`` (the valid names of an error message)."""
    return sorted(name for name, value in vars(module).items() if not name.startswith("_") and callable(value)
                  and getattr(value, "__module__", None) == module.__name__)[:12]
