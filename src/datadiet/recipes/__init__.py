"""The recipes that ship with datadiet: one TOML file per figure or table of the papers (see README.md here).

:func:`list_recipes` gives their names and one-line descriptions, :func:`recipe_path` the file of one, and
:func:`copy_recipe` copies one out to edit it. On the command line: ``datadiet recipes list``, ``datadiet
recipes copy NAME DEST``, and ``datadiet sweep NAME --preset tiny --out DIR`` runs one by its name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["FOLDER", "copy_recipe", "describe", "is_recipe_name", "list_recipes", "recipe_path"]

FOLDER = Path(__file__).resolve().parent
"""Where the shipped recipes lie (inside the installed package)."""


def list_recipes() -> list[str]:
    """The names of the shipped recipes, sorted."""
    return sorted(path.stem for path in FOLDER.glob("*.toml"))


def is_recipe_name(text: str) -> bool:
    """True if ``text`` is written as a recipe's name (no folder, no ``.toml``) rather than a path."""
    return bool(text) and "/" not in text and "\\" not in text and not text.endswith(".toml")


def recipe_path(name: str) -> Path:
    """The file of the shipped recipe ``name`` (``.toml`` may be given); ``ValueError`` for an unknown name."""
    stem = name[:-5] if name.endswith(".toml") else name
    if stem not in list_recipes():
        raise ValueError(f"no shipped recipe {name!r}; shipped: {', '.join(list_recipes())} "
                         "(or give the path of a recipe file)")
    return FOLDER / f"{stem}.toml"


def describe(name: str) -> str:
    """The one-line description of the shipped recipe ``name`` (its ``[experiment] description``)."""
    from datadiet.experiments.recipe import read_recipe

    return str(read_recipe(recipe_path(name)).get("experiment", {}).get("description", ""))


def copy_recipe(name: str, dest: str | Path, *, overwrite: bool = False) -> Path:
    """Copy the shipped recipe ``name`` to ``dest`` (a file, or an existing folder to copy it into).

    Returns the new file. An existing file is kept (``ValueError``) unless ``overwrite``. The copy runs as
    the original: a recipe that extends another names it as a shipped recipe.
    """
    source = recipe_path(name)
    target = Path(dest).expanduser()
    if target.is_dir():
        target = target / source.name
    if target.exists() and not overwrite:
        raise ValueError(f"{target} exists; choose another destination, or overwrite it")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"folder {target.parent} does not exist")
    shutil.copyfile(source, target)
    return target
